package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/twilio"
)

// The keys of notifications: for the Slack app, phones (Twilio),
// Microsoft Teams, Mattermost and status pages. They sit in the
// notifications section beside the incoming webhooks and email
// (NotificationSpec); this file validates them into ChatopsConfig. The
// fields are documented in docs/notifications.md.

// SlackIncidentChannels configures the channels opened for incidents.
type SlackIncidentChannels struct {
	// MinSeverity opens a channel for incidents at or above it (sev1 …
	// sev4); required to turn channels on.
	MinSeverity string `yaml:"min_severity"`
	// Name is the channel name template: {id}, {service} and {severity}
	// are replaced (default inc-{id}-{service}).
	Name string `yaml:"name"`
	// Private opens private channels.
	Private bool `yaml:"private"`
	// NotePrefix marks the channel messages that become timeline notes
	// (default !note).
	NotePrefix string `yaml:"note_prefix"`
	// ArchiveAfter is how long after the close the channel is archived
	// (default 24h; 0 archives at once).
	ArchiveAfter string `yaml:"archive_after"`
	// Invite lists Slack member IDs invited to every channel besides the
	// responders and the people on call.
	Invite []string `yaml:"invite"`
}

// TwilioSpec configures SMS and voice pages.
type TwilioSpec struct {
	// AccountSID is the Twilio account's SID, starting with AC
	// (required); with the auth token it authenticates every request.
	AccountSID string `yaml:"account_sid"`
	// AuthTokenEnv names the environment variable holding the account's
	// auth token (required), read at load; unset, the config is invalid.
	// It signs Twilio's webhooks too (X-Twilio-Signature).
	AuthTokenEnv string `yaml:"auth_token_env"`
	// From is the Twilio number messages and calls come from (E.164).
	From string `yaml:"from"`
	// APIURL replaces https://api.twilio.com (a proxy, or tests).
	APIURL string `yaml:"api_url"`
	// SMSLimits cap the messages one number gets, each at most count in
	// any per (default GoAlert's: 1 a minute, 5 in 15 minutes, 11 an hour,
	// 21 in 3 hours). A message over a limit waits for its turn.
	SMSLimits []PhoneLimitSpec `yaml:"sms_limits"`
	// VoiceLimits cap the calls one number gets, the same way (default 1 a
	// minute, 3 in 15 minutes, 7 an hour, 15 in 3 hours).
	VoiceLimits []PhoneLimitSpec `yaml:"voice_limits"`
	// DailyCap bounds all SMS and calls together in any 24 hours (default
	// 200), so an alert storm cannot run up a bill.
	DailyCap *int `yaml:"daily_cap"`
}

// PhoneLimitSpec is at most Count messages to one number in any Per.
type PhoneLimitSpec struct {
	// Count is how many messages or calls a number may get in per, at
	// least 1 (required).
	Count int `yaml:"count"`
	// Per is the span count applies to, a duration up to 7d (required).
	Per string `yaml:"per"`
}

// TeamsSpec configures Microsoft Teams pages.
type TeamsSpec struct {
	// WebhookURLEnv names the environment variable holding the Workflows
	// (or incoming) webhook URL that pages are posted to (required), read
	// at load; unset, the config is invalid.
	WebhookURLEnv string `yaml:"webhook_url_env"`
}

// MattermostSpec configures Mattermost pages and their buttons.
type MattermostSpec struct {
	// WebhookURLEnv names the environment variable holding the incoming
	// webhook URL that pages are posted to (required), read at load;
	// unset, the config is invalid.
	WebhookURLEnv string `yaml:"webhook_url_env"`
	// ActionSecretEnv names the variable holding the secret that signs
	// the buttons' context (empty: no buttons).
	ActionSecretEnv string `yaml:"action_secret_env"`
}

// StatusPageSpec configures where status updates go besides the incident
// channel.
type StatusPageSpec struct {
	// Webhook posts each status update as signed JSON to a URL of yours.
	Webhook *StatusWebhookSpec `yaml:"webhook"`
	// Statuspage creates an Atlassian Statuspage incident on the first
	// update of an incident and updates it on the next ones.
	Statuspage *StatuspageSpec `yaml:"statuspage"`
}

// StatusWebhookSpec is a generic JSON webhook for status updates.
type StatusWebhookSpec struct {
	// URLEnv names the environment variable holding the URL updates are
	// posted to (required), read at load; unset, the config is invalid.
	URLEnv string `yaml:"url_env"`
	// SecretEnv names the environment variable holding the key that signs
	// each update (X-Tandem-Signature-256), read at load.
	SecretEnv string `yaml:"secret_env"`
}

// StatuspageSpec is an Atlassian Statuspage page.
type StatuspageSpec struct {
	// PageID is the Statuspage page's ID (required), as in its API URLs.
	PageID string `yaml:"page_id"`
	// APIKeyEnv names the environment variable holding the Statuspage API
	// key (required), sent as Authorization: OAuth; read at load.
	APIKeyEnv string `yaml:"api_key_env"`
	// ComponentIDs are the page's components an incident affects.
	ComponentIDs []string `yaml:"component_ids"`
	// APIURL replaces https://api.statuspage.io (tests).
	APIURL string `yaml:"api_url"`
}

// ChatopsConfig is the validated config of the Slack app, phones, Teams,
// Mattermost and status pages. Secrets are read from the environment
// variables the config names, at load.
type ChatopsConfig struct {
	BaseURL string

	SlackBotToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	// SlackChannel is where Slack pages go (empty: each person's direct
	// message with the app).
	SlackChannel string
	// Channels, when MinSeverity is set, opens incident channels.
	Channels ChannelsConfig

	Twilio TwilioConfig

	TeamsWebhookURL        string
	MattermostWebhookURL   string
	MattermostActionSecret string

	StatusWebhookURL    string
	StatusWebhookSecret string
	Statuspage          StatuspageConfig
}

// SlackApp reports whether the Slack app (bot token) is configured.
func (c ChatopsConfig) SlackApp() bool { return c.SlackBotToken != "" }

// ChannelsConfig is the validated incident channel config.
type ChannelsConfig struct {
	MinSeverity  string // "" : no channels
	Name         string
	Private      bool
	NotePrefix   string
	ArchiveAfter time.Duration
	Invite       []string
}

// TwilioConfig is the validated Twilio config; AccountSID empty: none.
type TwilioConfig struct {
	AccountSID, AuthToken, From, APIURL string
	SMSLimits, VoiceLimits              []PhoneLimit
	DailyCap                            int
}

// PhoneLimit is at most Count messages to one number in any Per.
type PhoneLimit struct {
	Count int
	Per   time.Duration
}

// StatuspageConfig is the validated Statuspage config; PageID empty: none.
type StatuspageConfig struct {
	PageID, APIKey, APIURL string
	ComponentIDs           []string
}

// DefaultSMSLimits and DefaultVoiceLimits are GoAlert's per-number limits
// for alert messages.
var (
	DefaultSMSLimits   = []PhoneLimit{{1, time.Minute}, {5, 15 * time.Minute}, {11, time.Hour}, {21, 3 * time.Hour}}
	DefaultVoiceLimits = []PhoneLimit{{1, time.Minute}, {3, 15 * time.Minute}, {7, time.Hour}, {15, 3 * time.Hour}}
)

// DefaultDailyCap bounds SMS and calls together in any 24 hours.
const DefaultDailyCap = 200

var slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{8,}$`)

// buildChatops validates the notifications keys of this file; it runs
// after buildIncident, whose base URL the webhooks need.
func (l *loader) buildChatops() {
	c := &l.cfg.Chatops
	c.BaseURL = l.cfg.Incident.BaseURL
	c.Channels.NotePrefix = "!note"
	c.Channels.Name = "inc-{id}-{service}"
	c.Channels.ArchiveAfter = 24 * time.Hour
	c.Twilio.SMSLimits, c.Twilio.VoiceLimits, c.Twilio.DailyCap = DefaultSMSLimits, DefaultVoiceLimits, DefaultDailyCap
	notifs := l.cfg.Incident.notifs
	if len(notifs) == 0 {
		l.checkChatopsUse()
		return
	}
	e := notifs[0]
	n := e.v
	secret := func(node *yaml.Node, field, path, env string) string {
		if env == "" {
			return ""
		}
		if !envNameRe.MatchString(env) {
			l.errAt(e.file, node, field, path, "want an environment variable name, got %q", env)
			return ""
		}
		v := os.Getenv(env)
		if v == "" {
			l.errAt(e.file, node, field, path, "environment variable %s is not set", env)
		}
		return v
	}
	apiURL := func(node *yaml.Node, path, v string) string {
		if v == "" {
			return ""
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.errAt(e.file, node, "api_url", path, "expected an http(s) URL, got %q", v)
		}
		return strings.TrimRight(v, "/")
	}
	needBase := func(node *yaml.Node, field, path, what string) {
		if c.BaseURL == "" {
			l.errAt(e.file, node, field, path, "%s needs incidents.base_url, the public URL the provider calls back", what)
		}
	}
	if s := n.Slack; s != nil {
		sn := at(e.node, "slack")
		c.SlackBotToken = secret(sn, "bot_token_env", "notifications.slack.bot_token_env", s.BotTokenEnv)
		c.SlackSigningSecret = secret(sn, "signing_secret_env", "notifications.slack.signing_secret_env", s.SigningSecretEnv)
		c.SlackAPIURL = apiURL(sn, "notifications.slack.api_url", s.APIURL)
		if s.BotTokenEnv != "" && s.SigningSecretEnv == "" {
			l.errAt(e.file, sn, "bot_token_env", "notifications.slack.signing_secret_env",
				"the Slack app needs signing_secret_env too: its buttons, /tandem and events are refused without a verified signature")
		}
		if s.BotTokenEnv != "" {
			needBase(sn, "bot_token_env", "notifications.slack.bot_token_env", "the Slack app")
		}
		if s.Channel != "" {
			if !slackChannelID.MatchString(s.Channel) {
				l.errAt(e.file, sn, "channel", "notifications.slack.channel", "expected a Slack channel ID such as C0123ABCD (channel details → copy channel ID), got %q", s.Channel)
			}
			if s.BotTokenEnv == "" {
				l.errAt(e.file, sn, "channel", "notifications.slack.channel", "a channel for pages needs the Slack app (bot_token_env)")
			}
			c.SlackChannel = s.Channel
		}
		if ic := s.IncidentChannels; ic != nil {
			in := at(sn, "incident_channels")
			path := "notifications.slack.incident_channels"
			if s.BotTokenEnv == "" {
				l.errAt(e.file, sn, "incident_channels", path, "incident channels need the Slack app (bot_token_env)")
			}
			if !isSev(ic.MinSeverity) {
				l.errAt(e.file, in, "min_severity", path+".min_severity", "expected sev1, sev2, sev3 or sev4, got %q", ic.MinSeverity)
			}
			c.Channels.MinSeverity = ic.MinSeverity
			if ic.Name != "" {
				if probe := ChannelName(ic.Name, 1, "checkout", "sev1"); probe == "" || !strings.Contains(ic.Name, "{id}") {
					l.errAt(e.file, in, "name", path+".name", "the template must hold {id} (channel names are unique) and make a valid name, got %q", ic.Name)
				}
				c.Channels.Name = ic.Name
			}
			c.Channels.Private = ic.Private
			if ic.NotePrefix != "" {
				c.Channels.NotePrefix = ic.NotePrefix
			}
			if ic.ArchiveAfter != "" {
				d, err := tandem.ParseDuration(ic.ArchiveAfter)
				if err != nil || d < 0 {
					l.errAt(e.file, in, "archive_after", path+".archive_after", "expected a duration such as 24h, got %q", ic.ArchiveAfter)
				}
				c.Channels.ArchiveAfter = d
			}
			for i, id := range ic.Invite {
				if !slackMemberIDPattern.MatchString(id) {
					l.errAt(e.file, item(at(in, "invite"), i), "", fmt.Sprintf("%s.invite[%d]", path, i), "expected %s, got %q", slackMemberIDHint, id)
				}
			}
			c.Channels.Invite = ic.Invite
		}
	}
	if t := n.Twilio; t != nil {
		tn := at(e.node, "twilio")
		path := "notifications.twilio"
		if !strings.HasPrefix(t.AccountSID, "AC") {
			l.errAt(e.file, tn, "account_sid", path+".account_sid", "expected an account SID (AC…), got %q", t.AccountSID)
		}
		if t.AuthTokenEnv == "" {
			l.errAt(e.file, tn, "account_sid", path+".auth_token_env", "required: the variable holding the auth token")
		}
		if !twilio.ValidNumber(t.From) {
			l.errAt(e.file, tn, "from", path+".from", "expected the Twilio number in E.164 form such as +15005550006, got %q", t.From)
		}
		needBase(tn, "account_sid", path, "Twilio")
		c.Twilio.AccountSID, c.Twilio.From = t.AccountSID, t.From
		c.Twilio.AuthToken = secret(tn, "auth_token_env", path+".auth_token_env", t.AuthTokenEnv)
		c.Twilio.APIURL = apiURL(tn, path+".api_url", t.APIURL)
		limits := func(field string, specs []PhoneLimitSpec, def []PhoneLimit) []PhoneLimit {
			if specs == nil {
				return def
			}
			var out []PhoneLimit
			for i, s := range specs {
				d, err := tandem.ParseDuration(s.Per)
				if err != nil || d <= 0 || d > 7*24*time.Hour || s.Count < 1 {
					l.errAt(e.file, item(at(tn, field), i), "", fmt.Sprintf("%s.%s[%d]", path, field, i), "expected {count: N ≥ 1, per: a duration up to 7d}, got {count: %d, per: %q}", s.Count, s.Per)
					continue
				}
				out = append(out, PhoneLimit{Count: s.Count, Per: d})
			}
			return out
		}
		c.Twilio.SMSLimits = limits("sms_limits", t.SMSLimits, DefaultSMSLimits)
		c.Twilio.VoiceLimits = limits("voice_limits", t.VoiceLimits, DefaultVoiceLimits)
		if t.DailyCap != nil {
			if *t.DailyCap < 1 {
				l.errAt(e.file, tn, "daily_cap", path+".daily_cap", "expected at least 1, got %d", *t.DailyCap)
			}
			c.Twilio.DailyCap = *t.DailyCap
		}
	}
	if t := n.Teams; t != nil {
		c.TeamsWebhookURL = secret(at(e.node, "teams"), "webhook_url_env", "notifications.teams.webhook_url_env", t.WebhookURLEnv)
	}
	if m := n.Mattermost; m != nil {
		mn := at(e.node, "mattermost")
		c.MattermostWebhookURL = secret(mn, "webhook_url_env", "notifications.mattermost.webhook_url_env", m.WebhookURLEnv)
		c.MattermostActionSecret = secret(mn, "action_secret_env", "notifications.mattermost.action_secret_env", m.ActionSecretEnv)
		// Several secrets, comma-separated, during a rotation: each is
		// checked.
		for _, sec := range strings.Split(c.MattermostActionSecret, ",") {
			if c.MattermostActionSecret != "" && len(strings.TrimSpace(sec)) < 16 {
				l.errAt(e.file, mn, "action_secret_env", "notifications.mattermost.action_secret_env", "the secret in %s is shorter than 16 bytes", m.ActionSecretEnv)
				break
			}
		}
		if m.ActionSecretEnv != "" {
			needBase(mn, "action_secret_env", "notifications.mattermost.action_secret_env", "Mattermost buttons")
		}
	}
	if sp := n.StatusPage; sp != nil {
		sn := at(e.node, "status_page")
		if w := sp.Webhook; w != nil {
			wn := at(sn, "webhook")
			c.StatusWebhookURL = secret(wn, "url_env", "notifications.status_page.webhook.url_env", w.URLEnv)
			if w.URLEnv == "" {
				l.errAt(e.file, wn, "", "notifications.status_page.webhook.url_env", "required")
			}
			c.StatusWebhookSecret = secret(wn, "secret_env", "notifications.status_page.webhook.secret_env", w.SecretEnv)
		}
		if s := sp.Statuspage; s != nil {
			pn := at(sn, "statuspage")
			if s.PageID == "" {
				l.errAt(e.file, pn, "", "notifications.status_page.statuspage.page_id", "required: the page's ID (Statuspage → API info)")
			}
			if s.APIKeyEnv == "" {
				l.errAt(e.file, pn, "", "notifications.status_page.statuspage.api_key_env", "required: the variable holding the API key")
			}
			c.Statuspage = StatuspageConfig{PageID: s.PageID, ComponentIDs: s.ComponentIDs,
				APIKey: secret(pn, "api_key_env", "notifications.status_page.statuspage.api_key_env", s.APIKeyEnv),
				APIURL: apiURL(pn, "notifications.status_page.statuspage.api_url", s.APIURL)}
		}
	}
	l.checkChatopsUse()
}

// checkChatopsUse reports contact methods whose channel is not configured.
func (l *loader) checkChatopsUse() {
	c := l.cfg.Chatops
	for _, e := range l.cfg.Oncall.rules {
		for i, m := range e.v.ContactMethods {
			mn := item(at(e.node, "contact_methods"), i)
			path := fmt.Sprintf("notification_rules.%s.contact_methods[%d].type", e.v.Person, i)
			switch {
			case (m.Type == "sms" || m.Type == "voice") && c.Twilio.AccountSID == "":
				l.errAt(e.file, mn, "type", path, "%s pages need notifications.twilio", m.Type)
			case m.Type == "teams" && c.TeamsWebhookURL == "" && !l.hasNotif("teams"):
				l.errAt(e.file, mn, "type", path, "teams pages need notifications.teams")
			case m.Type == "mattermost" && c.MattermostWebhookURL == "" && !l.hasNotif("mattermost"):
				l.errAt(e.file, mn, "type", path, "mattermost pages need notifications.mattermost")
			}
		}
	}
	for _, e := range l.people {
		if e.v.Phone != "" && !twilio.ValidNumber(e.v.Phone) {
			l.errAt(e.file, e.node, "phone", "people."+e.v.Name+".phone", "expected an E.164 number such as +15551234567, got %q", e.v.Phone)
		}
	}
}

// hasNotif reports whether notifications: names the key (its variable may
// be unset, which is reported on its own).
func (l *loader) hasNotif(key string) bool {
	ns := l.cfg.Incident.notifs
	return len(ns) > 0 && at(ns[0].node, key) != nil
}

var channelChars = regexp.MustCompile(`[^a-z0-9_-]+`)

// ChannelName fills a channel name template for an incident: {id},
// {service} (the first service) and {severity}, lowercased, with the
// characters Slack refuses turned into dashes and cut to Slack's 80
// characters. It returns "" when nothing is left.
func ChannelName(tmpl string, id int64, service, severity string) string {
	s := strings.NewReplacer("{id}", fmt.Sprint(id), "{service}", service, "{severity}", severity).Replace(tmpl)
	s = strings.Trim(channelChars.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 80 {
		s = strings.TrimRight(s[:80], "-")
	}
	return s
}

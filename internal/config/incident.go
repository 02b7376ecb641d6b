package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/incident"
)

// IncidentSection holds the top-level keys of a tandem document for
// incidents, inbound alerts, notifications and the job engine
// (docs/incidents.md and docs/webhooks.md explain them in use).
type IncidentSection struct {
	// Incidents configures how alerts and inbound webhooks open, map and
	// resolve incidents. At most one document may set it.
	Incidents *IncidentsSpec `yaml:"incidents"`
	// Notifications configures the channels pages go out through: Slack,
	// webhooks and email. At most one document may set it.
	Notifications *NotificationSpec `yaml:"notifications"`
	// MaintenanceWindows are planned spans in which a service's alerts are
	// recorded but page nobody.
	MaintenanceWindows []MaintenanceSpec `yaml:"maintenance_windows"`
	// Heartbeats are dead man's switches: a job calls
	// POST /api/v1/heartbeats/NAME every run, and a missed call opens an
	// incident.
	Heartbeats []HeartbeatSpec `yaml:"heartbeats"`
}

// IncidentsSpec is the incidents: key as written.
type IncidentsSpec struct {
	// AutoResolve resolves an alert-opened incident when all its alerts
	// are resolved (default true).
	AutoResolve *bool `yaml:"auto_resolve"`
	// BaseURL is the public http(s) URL of tandem; without it pages carry
	// no link to the incident and no acknowledge or resolve links.
	BaseURL string `yaml:"base_url"`
	// AlertMapping says how the labels of Alertmanager alerts and generic
	// webhook deliveries give an incident's service and severity.
	AlertMapping *AlertMapSpec `yaml:"alert_mapping"`
	// GitHub configures the GitHub issues webhook,
	// POST /api/v1/webhooks/github/issues: an issue labelled sev1…sev4
	// opens an incident, and closing it closes the incident.
	GitHub *IncidentGitHub `yaml:"github_issues"`
	// Webhook configures the generic inbound webhook,
	// POST /api/v1/webhooks/generic.
	Webhook *IncidentWebhook `yaml:"webhook"`
	// FallbackEscalationPolicy names the policy paged for an incident none
	// of whose services names one (a service missing from the catalog, an
	// alert without a service label); without it such incidents page nobody.
	FallbackEscalationPolicy string `yaml:"fallback_escalation_policy"`
	// JobRetention is how long finished (done or failed) background jobs —
	// pages, escalation steps, notifications — stay in the jobs table
	// before they are pruned, a duration of at least 1h (default 30d). A
	// pruned job's idempotency key is kept, so a duplicate of the event
	// that caused it still enqueues nothing.
	JobRetention string `yaml:"job_retention"`
}

// AlertMapSpec maps alert labels to service and severity.
type AlertMapSpec struct {
	// ServiceLabel is the label that names the service (default service).
	ServiceLabel string `yaml:"service_label"`
	// SeverityLabel is the label that gives the severity (default
	// severity).
	SeverityLabel string `yaml:"severity_label"`
	// Severities are a mapping from values of the severity label, ignoring
	// case, to sev1…sev4; sev1…sev4 themselves need no entry (default
	// page: sev2, critical: sev1).
	Severities map[string]string `yaml:"severities"`
	// DefaultSeverity is the severity, sev1…sev4, of an alert whose label
	// maps to none (default sev3).
	DefaultSeverity string `yaml:"default_severity"`
	// DefaultService names the service of an alert without the service
	// label; without it such an alert opens under the service unknown.
	DefaultService string `yaml:"default_service"`
}

// IncidentGitHub configures the GitHub issues webhook.
type IncidentGitHub struct {
	// SecretEnv names the environment variable holding the webhook secret,
	// read at load (unset, the config is invalid); without it the webhook
	// refuses every delivery.
	SecretEnv string `yaml:"secret_env"`
	// DefaultService names the service of an issue without a service:NAME
	// label.
	DefaultService string `yaml:"default_service"`
}

// IncidentWebhook configures the generic inbound webhook (authenticated by
// an API token with write scope; nothing to configure but its mapping).
type IncidentWebhook struct {
	// DefaultService names the service of a delivery that names none,
	// neither in its service field nor by label.
	DefaultService string `yaml:"default_service"`
}

// NotificationSpec is the notifications: key as written.
type NotificationSpec struct {
	// Slack configures Slack pages, posted to one incoming webhook that
	// mentions each person by member ID.
	Slack *SlackSpec `yaml:"slack"`
	// Webhook configures pages to people's webhook contact methods.
	Webhook *WebhookSpec `yaml:"webhook"`
	// Email configures the SMTP server for email pages, failing-gate emails
	// and action-item reminders.
	Email *EmailSpec `yaml:"email"`
	// ActionLinks configures the one-click acknowledge and resolve links in
	// pages.
	ActionLinks *ActionLinkSpec `yaml:"action_links"`
	// RateLimits are the send rates of the channels slack, webhook and
	// email, keyed by channel (default slack 1/s, webhook 100/s in bursts
	// of 50, email 10/s).
	RateLimits map[string]RateLimit `yaml:"rate_limits"`
	// Twilio configures SMS and voice pages through Twilio, and the
	// webhooks its replies and keypresses arrive on.
	Twilio *TwilioSpec `yaml:"twilio"`
	// Teams configures Microsoft Teams pages (a Workflows webhook posting
	// an Adaptive Card).
	Teams *TeamsSpec `yaml:"teams"`
	// Mattermost configures Mattermost pages with interactive buttons.
	Mattermost *MattermostSpec `yaml:"mattermost"`
	// StatusPage configures where incident status updates are posted: a
	// generic JSON webhook and/or Atlassian Statuspage.
	StatusPage *StatusPageSpec `yaml:"status_page"`
}

// SlackSpec configures Slack pages: an incoming webhook, or the Slack app
// (a bot token and the signing secret) with buttons, /tandem, incident
// channels and link previews.
type SlackSpec struct {
	// WebhookURLEnv names the environment variable holding the incoming
	// webhook URL (a secret), read at load; unset, the config is invalid.
	WebhookURLEnv string `yaml:"webhook_url_env"`
	// BotTokenEnv names the environment variable holding the Slack app's
	// bot token (xoxb-…), read at load: with it pages are app messages
	// with buttons, and incident channels can open.
	BotTokenEnv string `yaml:"bot_token_env"`
	// SigningSecretEnv names the environment variable holding the app's
	// signing secret, read at load, which checks every request Slack sends
	// (required with bot_token_env).
	SigningSecretEnv string `yaml:"signing_secret_env"`
	// Channel is the ID of the channel pages are posted to (empty: each
	// person's direct message with the app).
	Channel string `yaml:"channel"`
	// APIURL replaces https://slack.com/api (a proxy, or tests).
	APIURL string `yaml:"api_url"`
	// IncidentChannels opens a Slack channel for each incident at or
	// above a severity (needs the bot token).
	IncidentChannels *SlackIncidentChannels `yaml:"incident_channels"`
}

// WebhookSpec configures outbound webhook pages.
type WebhookSpec struct {
	// SecretEnv names the environment variable holding the key that signs
	// each page (X-Tandem-Signature-256), read at load; unset, the config is
	// invalid.
	SecretEnv string `yaml:"secret_env"`
}

// EmailSpec configures SMTP.
type EmailSpec struct {
	// SMTP is the server's host:port (required).
	SMTP string `yaml:"smtp"`
	// From is the sender's email address (required).
	From string `yaml:"from"`
	// Username turns on AUTH PLAIN as this user, never over an unencrypted
	// connection to a remote host.
	Username string `yaml:"username"`
	// PasswordEnv names the environment variable holding the SMTP password,
	// read at load; unset, the config is invalid.
	PasswordEnv string `yaml:"password_env"`
	// StartTLS requires STARTTLS before anything is sent (default true);
	// false suits a relay on the same host only.
	StartTLS *bool `yaml:"starttls"`
}

// ActionLinkSpec configures one-click ack/resolve links.
type ActionLinkSpec struct {
	// KeyEnv names the environment variable holding the key, at least 16
	// bytes, that signs the links; read at load, and unset the config is
	// invalid. Without key_env, pages carry no action links.
	KeyEnv string `yaml:"key_env"`
	// TTL is how long a link works after the page, a duration (default
	// 24h).
	TTL string `yaml:"ttl"`
}

// RateLimit is a per-channel rate: one message every Every, bursts of Burst.
type RateLimit struct {
	// Every is the time between two messages, a duration such as 1s
	// (required).
	Every string `yaml:"every"`
	// Burst is how many messages may go at once (default 1).
	Burst int `yaml:"burst"`
}

// MaintenanceSpec is a maintenance window as written.
type MaintenanceSpec struct {
	// Service names the service under maintenance (required).
	Service string `yaml:"service"`
	// Start is a time, RFC 3339, at which the window opens (required).
	Start string `yaml:"start"`
	// End is a time, RFC 3339, after the start, at which the window closes
	// (required).
	End string `yaml:"end"`
	// Reason says what the work is (required).
	Reason string `yaml:"reason"`
}

// HeartbeatSpec is a heartbeat monitor as written.
type HeartbeatSpec struct {
	// Name identifies the heartbeat in its URL (required): no spaces or
	// /?#, unique.
	Name string `yaml:"name"`
	// Service names the service a missed heartbeat opens an incident on
	// (required).
	Service string `yaml:"service"`
	// Interval is how often the job runs, a duration of at least 1m
	// (required).
	Interval string `yaml:"interval"`
	// Grace is how late a call may come before it counts as missed, a
	// duration from 0 (none) to 7d (default a tenth of the interval, at
	// least 1m).
	Grace string `yaml:"grace"`
	// Severity is the incident's severity, sev1…sev4 (default sev3).
	Severity string `yaml:"severity"`
}

// IncidentConfig is the validated config for incidents, inbound alerts,
// notifications and the job engine. Secrets are read from the environment
// variables the config names, at load.
type IncidentConfig struct {
	AutoResolve     bool
	BaseURL         string
	ServiceLabel    string
	SeverityLabel   string
	Severities      map[string]string
	DefaultSeverity string
	DefaultService  string

	// FallbackPolicy is paged for an incident none of whose services names
	// an escalation policy (incidents.fallback_escalation_policy).
	FallbackPolicy string
	// JobRetention is how long finished jobs are kept
	// (incidents.job_retention).
	JobRetention time.Duration

	GitHubSecret         string
	GitHubDefaultService string
	WebhookDefault       string

	SlackWebhookURL string
	WebhookSecret   string
	SMTP            SMTPConfig
	ActionKey       []byte
	ActionTTL       time.Duration
	// RateLimits by channel type (slack, webhook, email).
	RateLimits map[string]RateLimitConfig

	Maintenance []MaintenanceConfig
	Heartbeats  []incident.Heartbeat

	incidents []entry[IncidentsSpec]
	notifs    []entry[NotificationSpec]
	windows   []entry[MaintenanceSpec]
	beats     []entry[HeartbeatSpec]
}

// SMTPConfig is the validated email config.
type SMTPConfig struct {
	Addr, From, Username, Password string
	StartTLS                       bool
}

// RateLimitConfig is a validated rate limit.
type RateLimitConfig struct {
	Every time.Duration
	Burst int
}

// MaintenanceConfig is a validated maintenance window.
type MaintenanceConfig struct {
	Service    string
	Start, End time.Time
	Reason     string
}

// collectIncident files the section's items of one document, with their nodes.
func (l *loader) collectIncident(file string, root *yaml.Node, d *document) {
	c := &l.cfg.Incident
	if d.Incidents != nil {
		c.incidents = append(c.incidents, entry[IncidentsSpec]{*d.Incidents, file, at(root, "incidents")})
	}
	if d.Notifications != nil {
		c.notifs = append(c.notifs, entry[NotificationSpec]{*d.Notifications, file, at(root, "notifications")})
	}
	for i, v := range d.MaintenanceWindows {
		c.windows = append(c.windows, entry[MaintenanceSpec]{v, file, item(at(root, "maintenance_windows"), i)})
	}
	for i, v := range d.Heartbeats {
		c.beats = append(c.beats, entry[HeartbeatSpec]{v, file, item(at(root, "heartbeats"), i)})
	}
}

// maxHeartbeatGrace bounds a heartbeat's grace. Longer than a week hides
// a stopped job for longer than anyone would accept of a dead man's
// switch; it is more likely a unit typo (7d for 7m) than a wish.
const maxHeartbeatGrace = 7 * 24 * time.Hour

var sevNames = []string{"sev1", "sev2", "sev3", "sev4"}

func isSev(s string) bool {
	for _, v := range sevNames {
		if v == s {
			return true
		}
	}
	return false
}

// buildIncident validates the collected items (references into the catalog
// included) and fills l.cfg.Incident.
func (l *loader) buildIncident() {
	c := &l.cfg.Incident
	c.AutoResolve = true
	c.ServiceLabel, c.SeverityLabel = "service", "severity"
	c.Severities = map[string]string{"page": "sev2", "critical": "sev1"}
	c.DefaultSeverity = "sev3"
	c.ActionTTL = 24 * time.Hour
	c.JobRetention = 30 * 24 * time.Hour
	c.SMTP.StartTLS = true
	cat := l.cfg.Catalog
	service := func(file string, node *yaml.Node, field, path, name string) {
		if name == "" {
			return
		}
		if cat == nil {
			return
		}
		if _, ok := cat.Service(name); !ok {
			names := make([]string, 0, len(cat.Services))
			for _, s := range cat.Services {
				names = append(names, s.Name)
			}
			msg := fmt.Sprintf("service %q does not exist", name)
			if cl := catalog.Closest(name, names, 3); len(cl) > 0 {
				msg += "; did you mean " + strings.Join(quoteAll(cl), ", ") + "?"
			}
			l.errAt(file, node, field, path, "%s", msg)
		}
	}
	secret := func(file string, node *yaml.Node, field, path, env string) string {
		if env == "" {
			return ""
		}
		v := os.Getenv(env)
		if v == "" {
			l.errAt(file, node, field, path, "environment variable %s is not set", env)
		}
		return v
	}
	if len(c.incidents) > 1 {
		e := c.incidents[1]
		l.errAt(e.file, e.node, "", "incidents", "incidents: is set in more than one document (first in %s)", c.incidents[0].file)
	}
	if len(c.incidents) > 0 {
		e := c.incidents[0]
		s := e.v
		if s.AutoResolve != nil {
			c.AutoResolve = *s.AutoResolve
		}
		if s.BaseURL != "" {
			if u, err := url.Parse(s.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				l.errAt(e.file, e.node, "base_url", "incidents.base_url", "expected an http(s) URL, got %q", s.BaseURL)
			}
			c.BaseURL = strings.TrimRight(s.BaseURL, "/")
		}
		if m := s.AlertMapping; m != nil {
			mn := at(e.node, "alert_mapping")
			if m.ServiceLabel != "" {
				c.ServiceLabel = m.ServiceLabel
			}
			if m.SeverityLabel != "" {
				c.SeverityLabel = m.SeverityLabel
			}
			if m.Severities != nil {
				c.Severities = map[string]string{}
				keys := make([]string, 0, len(m.Severities))
				for k := range m.Severities {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					v := strings.ToLower(m.Severities[k])
					if !isSev(v) && v != incident.NoIncident {
						l.errAt(e.file, at(mn, "severities"), k, "incidents.alert_mapping.severities."+k, "expected sev1, sev2, sev3, sev4 or none (no incident), got %q", m.Severities[k])
					}
					c.Severities[strings.ToLower(k)] = v
				}
			}
			if m.DefaultSeverity != "" {
				if !isSev(m.DefaultSeverity) {
					l.errAt(e.file, mn, "default_severity", "incidents.alert_mapping.default_severity", "expected sev1..sev4, got %q", m.DefaultSeverity)
				}
				c.DefaultSeverity = m.DefaultSeverity
			}
			service(e.file, mn, "default_service", "incidents.alert_mapping.default_service", m.DefaultService)
			c.DefaultService = m.DefaultService
		}
		if g := s.GitHub; g != nil {
			gn := at(e.node, "github_issues")
			c.GitHubSecret = secret(e.file, gn, "secret_env", "incidents.github_issues.secret_env", g.SecretEnv)
			service(e.file, gn, "default_service", "incidents.github_issues.default_service", g.DefaultService)
			c.GitHubDefaultService = g.DefaultService
		}
		if s.JobRetention != "" {
			d, err := tandem.ParseDuration(s.JobRetention)
			if err != nil || d < time.Hour {
				l.errAt(e.file, e.node, "job_retention", "incidents.job_retention", "expected a duration of at least 1h such as 30d, got %q", s.JobRetention)
			} else {
				c.JobRetention = d
			}
		}
		if w := s.Webhook; w != nil {
			service(e.file, at(e.node, "webhook"), "default_service", "incidents.webhook.default_service", w.DefaultService)
			c.WebhookDefault = w.DefaultService
		}
		if fb := s.FallbackEscalationPolicy; fb != "" {
			var names []string
			for _, p := range l.cfg.Oncall.Policies {
				names = append(names, p.Name)
			}
			if !slices.Contains(names, fb) {
				l.missing(e.file, e.node, "fallback_escalation_policy", "incidents.fallback_escalation_policy", "escalation policy", fb, names)
			}
			c.FallbackPolicy = fb
		}
	}
	if len(c.notifs) > 1 {
		e := c.notifs[1]
		l.errAt(e.file, e.node, "", "notifications", "notifications: is set in more than one document (first in %s)", c.notifs[0].file)
	}
	if len(c.notifs) > 0 {
		e := c.notifs[0]
		n := e.v
		if n.Slack != nil {
			c.SlackWebhookURL = secret(e.file, at(e.node, "slack"), "webhook_url_env", "notifications.slack.webhook_url_env", n.Slack.WebhookURLEnv)
		}
		if n.Webhook != nil {
			c.WebhookSecret = secret(e.file, at(e.node, "webhook"), "secret_env", "notifications.webhook.secret_env", n.Webhook.SecretEnv)
		}
		if m := n.Email; m != nil {
			en := at(e.node, "email")
			if m.SMTP == "" || !strings.Contains(m.SMTP, ":") {
				l.errAt(e.file, en, "smtp", "notifications.email.smtp", "expected host:port, got %q", m.SMTP)
			}
			if m.From == "" || !strings.Contains(m.From, "@") {
				l.errAt(e.file, en, "from", "notifications.email.from", "expected an email address, got %q", m.From)
			}
			c.SMTP = SMTPConfig{Addr: m.SMTP, From: m.From, Username: m.Username, StartTLS: true,
				Password: secret(e.file, en, "password_env", "notifications.email.password_env", m.PasswordEnv)}
			if m.StartTLS != nil {
				c.SMTP.StartTLS = *m.StartTLS
			}
		}
		if a := n.ActionLinks; a != nil {
			an := at(e.node, "action_links")
			if k := secret(e.file, an, "key_env", "notifications.action_links.key_env", a.KeyEnv); k != "" {
				if len(k) < 16 {
					l.errAt(e.file, an, "key_env", "notifications.action_links.key_env", "the key in %s is shorter than 16 bytes", a.KeyEnv)
				}
				c.ActionKey = []byte(k)
			}
			if a.TTL != "" {
				d, err := tandem.ParseDuration(a.TTL)
				if err != nil || d <= 0 {
					l.errAt(e.file, an, "ttl", "notifications.action_links.ttl", "expected a duration such as 24h, got %q", a.TTL)
				}
				c.ActionTTL = d
			}
		}
		if len(n.RateLimits) > 0 {
			c.RateLimits = map[string]RateLimitConfig{}
			rn := at(e.node, "rate_limits")
			for k, v := range n.RateLimits {
				path := "notifications.rate_limits." + k
				if k != "slack" && k != "webhook" && k != "email" && k != "teams" && k != "mattermost" {
					l.errAt(e.file, rn, k, path, "expected slack, webhook, email, teams or mattermost")
					continue
				}
				d, err := tandem.ParseDuration(v.Every)
				if err != nil || d <= 0 {
					l.errAt(e.file, at(rn, k), "every", path+".every", "expected a duration such as 1s, got %q", v.Every)
				}
				if v.Burst < 0 {
					l.errAt(e.file, at(rn, k), "burst", path+".burst", "must not be negative")
				}
				c.RateLimits[k] = RateLimitConfig{Every: d, Burst: max(v.Burst, 1)}
			}
		}
	}
	for i, e := range c.windows {
		path := fmt.Sprintf("maintenance_windows[%d]", i)
		w := MaintenanceConfig{Service: e.v.Service, Reason: e.v.Reason}
		if w.Service == "" {
			l.errAt(e.file, e.node, "service", path+".service", "required")
		}
		service(e.file, e.node, "service", path+".service", w.Service)
		var err error
		if w.Start, err = time.Parse(time.RFC3339, e.v.Start); err != nil {
			l.errAt(e.file, e.node, "start", path+".start", "expected an RFC 3339 time such as 2026-03-01T22:00:00Z, got %q", e.v.Start)
		}
		if w.End, err = time.Parse(time.RFC3339, e.v.End); err != nil {
			l.errAt(e.file, e.node, "end", path+".end", "expected an RFC 3339 time, got %q", e.v.End)
		} else if !w.End.After(w.Start) {
			l.errAt(e.file, e.node, "end", path+".end", "must be after start")
		}
		if strings.TrimSpace(w.Reason) == "" {
			l.errAt(e.file, e.node, "reason", path+".reason", "required")
		}
		c.Maintenance = append(c.Maintenance, w)
	}
	seen := map[string]bool{}
	for i, e := range c.beats {
		path := fmt.Sprintf("heartbeats[%d]", i)
		h := incident.Heartbeat{Name: e.v.Name, Service: e.v.Service, Severity: strings.ToLower(e.v.Severity)}
		if h.Name == "" || strings.ContainsAny(h.Name, "/ ?#") {
			l.errAt(e.file, e.node, "name", path+".name", "required, without spaces or /?#")
		} else if seen[h.Name] {
			l.errAt(e.file, e.node, "name", path+".name", "heartbeat %q is defined twice", h.Name)
		}
		seen[h.Name] = true
		if h.Service == "" {
			l.errAt(e.file, e.node, "service", path+".service", "required")
		}
		service(e.file, e.node, "service", path+".service", h.Service)
		d, err := tandem.ParseDuration(e.v.Interval)
		if err != nil || d < time.Minute {
			l.errAt(e.file, e.node, "interval", path+".interval", "expected a duration of at least 1m, got %q", e.v.Interval)
		}
		h.Interval = d
		// The default is filled in here rather than left to the zero value,
		// so the config states the grace every consumer applies; an
		// explicit 0 needs incident.NoGrace, as zero there means default.
		if e.v.Grace == "" {
			h.Grace = incident.DefaultGrace(h.Interval)
		} else if g, err := tandem.ParseDuration(e.v.Grace); err != nil || g < 0 || g > maxHeartbeatGrace {
			l.errAt(e.file, e.node, "grace", path+".grace", "expected a duration from 0 (no grace) to 7d, got %q", e.v.Grace)
		} else if g == 0 {
			h.Grace = incident.NoGrace
		} else {
			h.Grace = g
		}
		if h.Severity == "" {
			h.Severity = "sev3"
		} else if !isSev(h.Severity) {
			l.errAt(e.file, e.node, "severity", path+".severity", "expected sev1..sev4, got %q", e.v.Severity)
		}
		c.Heartbeats = append(c.Heartbeats, h)
	}
}

// Package chatops lets people respond where they already are: the Slack
// app (pages with Acknowledge, Resolve and Escalate buttons updated in
// place, the /tandem command, incident channels that mirror the timeline
// and take notes, link previews of tandem pages), SMS and voice calls
// through Twilio (with replies and keypresses that acknowledge, and
// per-number rate limits and a daily cap), Mattermost buttons, and status
// updates sent to a status page.
//
// Everything sent out is a durable job on the engine (visible in tandem
// jobs), enqueued in the transaction of the event that causes it: pages
// are the incident capability's page jobs, for which this package is the
// Pager of the sms, voice and (with a bot token) slack contact methods;
// message updates, channel work, mirrored timeline entries, previews and
// status page posts are this package's own kinds. Inbound requests are
// authenticated (Slack's signature, X-Twilio-Signature, a signed
// Mattermost context) and act as the person the sender maps to; an unknown
// sender changes nothing.
package chatops

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/slack"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/twilio"
)

// Job kinds this package registers.
const (
	JobSlackUpdate    = "chatops.slack_update"
	JobSlackEphemeral = "chatops.slack_ephemeral"
	JobSlackLookup    = "chatops.slack_lookup"
	JobSlackChannel   = "chatops.slack_channel"
	JobSlackMirror    = "chatops.slack_mirror"
	JobSlackArchive   = "chatops.slack_archive"
	JobSlackUnfurl    = "chatops.slack_unfurl"
	JobStatusWebhook  = "chatops.status_webhook"
	JobStatuspage     = "chatops.statuspage"
)

// Settings are the live settings (from config); secrets included, so they
// are never logged or shown.
type Settings struct {
	// BaseURL is tandem's public URL: links, callbacks, and the URL
	// Twilio signs.
	BaseURL string

	SlackBotToken      string
	SlackSigningSecret string
	SlackAPIURL        string
	SlackChannel       string
	Channels           Channels

	Twilio Twilio

	MattermostActionSecret string
	ActionTTL              time.Duration

	StatusWebhookURL    string
	StatusWebhookSecret string
	Statuspage          Statuspage
}

// Channels configures incident channels; MinSeverity "" turns them off.
type Channels struct {
	MinSeverity  string
	Name         string // template: {id}, {service}, {severity}
	Private      bool
	NotePrefix   string
	ArchiveAfter time.Duration
	Invite       []string
	// NameFunc fills the template (config.ChannelName).
	NameFunc func(tmpl string, id int64, service, severity string) string
}

// Twilio configures phones; AccountSID "" turns them off.
type Twilio struct {
	AccountSID, AuthToken, From, APIURL string
	SMSLimits, VoiceLimits              []Limit
	DailyCap                            int
}

// Limit is at most Count messages to one number in any Per.
type Limit struct {
	Count int
	Per   time.Duration
}

// Statuspage is an Atlassian Statuspage page; PageID "" turns it off.
type Statuspage struct {
	PageID, APIKey, APIURL string
	ComponentIDs           []string
}

// SLOs evaluates SLOs (*slo.Service).
type SLOs interface {
	StatusAll(ctx context.Context, now time.Time) ([]slo.Status, error)
	FreezeAt(ctx context.Context, service string, now time.Time) slo.Freeze
}

// Changes lists change events (*change.Store).
type Changes interface {
	List(ctx context.Context, f change.Filter) ([]change.Event, error)
}

// Service is the capability. Fill the fields, then call Register once.
type Service struct {
	DB        *db.DB
	Clock     clock.Clock
	Log       *slog.Logger
	Engine    *engine.Engine
	Incidents *incident.Manager
	// Oncall gives the on-call directory (people, contact methods,
	// schedules) at an instant.
	Oncall incident.Directories
	// SLOs and Changes answer /tandem status and link previews (nil: not
	// shown).
	SLOs    SLOs
	Changes Changes
	// Sender posts status updates to the generic webhook.
	Sender *notify.Sender
	// Settings returns the live settings.
	Settings func() Settings
	// HTTP makes the calls to Slack, Twilio and Statuspage (nil: a client
	// with a 15 s timeout).
	HTTP *http.Client
}

// Register registers the job kinds on the engine, the event hook and the
// pagers on the incident manager.
func (s *Service) Register() {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	e := s.Engine
	e.Register(JobSlackUpdate, s.runSlackUpdate)
	e.Register(JobSlackEphemeral, s.runSlackEphemeral)
	e.Register(JobSlackLookup, s.runSlackLookup)
	e.Register(JobSlackChannel, s.runSlackChannel)
	e.Register(JobSlackMirror, s.runSlackMirror)
	e.Register(JobSlackArchive, s.runSlackArchive)
	e.Register(JobSlackUnfurl, s.runSlackUnfurl)
	e.Register(JobStatusWebhook, s.runStatusWebhook)
	e.Register(JobStatuspage, s.runStatuspage)
	s.Incidents.OnEvent(s.onEvent)
	s.Incidents.SetPager(oncall.ContactSlack, incident.PagerFunc(s.pageSlack))
	s.Incidents.SetPager(oncall.ContactSMS, incident.PagerFunc(s.pagePhone))
	s.Incidents.SetPager(oncall.ContactVoice, incident.PagerFunc(s.pagePhone))
}

func (s *Service) settings() Settings {
	if s.Settings == nil {
		return Settings{}
	}
	return s.Settings()
}

func (s *Service) slack(set Settings) *slack.Client {
	return &slack.Client{BaseURL: set.SlackAPIURL, Token: set.SlackBotToken, HTTP: s.HTTP}
}

func (s *Service) twilio(set Settings) *twilio.Client {
	return &twilio.Client{BaseURL: set.Twilio.APIURL, AccountSID: set.Twilio.AccountSID, AuthToken: notify.SigningSecret(set.Twilio.AuthToken), HTTP: s.HTTP}
}

func (s *Service) directory(ctx context.Context) (*oncall.Directory, error) {
	if s.Oncall == nil {
		return oncall.NewDirectory(oncall.Config{}, nil, nil), nil
	}
	return s.Oncall.DirectoryAt(ctx, s.Clock.Now())
}

// enqueue adds a job in tx (its key makes it once).
func enqueue(ctx context.Context, tx *db.Tx, kind, key string, payload any, at time.Time, attempts int) error {
	_, err := engine.Enqueue(ctx, tx, engine.NewJob{Kind: kind, Key: key, Payload: payload, RunAt: at, MaxAttempts: attempts})
	return err
}

// enqueueNow adds a job in its own transaction and wakes the engine.
func (s *Service) enqueueNow(ctx context.Context, kind, key string, payload any) error {
	err := s.DB.InTx(ctx, func(tx *db.Tx) error { return enqueue(ctx, tx, kind, key, payload, time.Time{}, 0) })
	if err == nil {
		s.Engine.Wake()
	}
	return err
}

// sevRank orders severities: sev1 is 1; unknown ones rank last.
func sevRank(s string) int {
	if i := slices.Index(incident.Severities, s); i >= 0 {
		return i + 1
	}
	return 99
}

// onEvent runs in the transaction of every timeline entry: it enqueues
// the Slack message updates, incident channel work, mirrored entries and
// status page posts the entry calls for.
func (s *Service) onEvent(ctx context.Context, tx *db.Tx, ev incident.Event) error {
	set := s.settings()
	now := s.Clock.Now()
	if set.SlackBotToken != "" {
		if ev.Kind == incident.EvStatus {
			ok, err := hasMessages(ctx, tx, ev.IncidentID)
			if err != nil {
				return err
			}
			if ok {
				if err := enqueue(ctx, tx, JobSlackUpdate, fmt.Sprintf("chatops:slack:update:%d:%d", ev.IncidentID, ev.ID),
					incidentPayload{Incident: ev.IncidentID}, now, 0); err != nil {
					return err
				}
			}
		}
		if set.Channels.MinSeverity != "" {
			if err := s.channelEvent(ctx, tx, set, ev, now); err != nil {
				return err
			}
		}
	}
	if ev.Kind == incident.EvStatusUpdate {
		if set.StatusWebhookURL != "" {
			if err := enqueue(ctx, tx, JobStatusWebhook, fmt.Sprintf("chatops:status:webhook:%d:%d", ev.IncidentID, ev.ID),
				eventPayload{Incident: ev.IncidentID, Event: ev.ID}, now, 0); err != nil {
				return err
			}
		}
		if set.Statuspage.PageID != "" {
			if err := enqueue(ctx, tx, JobStatuspage, fmt.Sprintf("chatops:statuspage:%d:%d", ev.IncidentID, ev.ID),
				eventPayload{Incident: ev.IncidentID, Event: ev.ID}, now, 100); err != nil {
				return err
			}
		}
	}
	return nil
}

type incidentPayload struct {
	Incident int64 `json:"incident"`
}

type eventPayload struct {
	Incident int64 `json:"incident"`
	Event    int64 `json:"event"`
}

// personBySlackID maps a Slack member ID to a tandem person: the catalog's
// slack field or a slack contact method, else the ID found for the
// person's email (users.lookupByEmail).
func (s *Service) personBySlackID(ctx context.Context, id string) (string, bool, error) {
	dir, err := s.directory(ctx)
	if err != nil {
		return "", false, err
	}
	cat := dir.Catalog()
	for _, p := range cat.People {
		for _, m := range dir.ContactMethods(p.Name) {
			if mid, ok := notify.SlackMemberID(m.Address); ok && m.Type == oncall.ContactSlack && mid == id {
				return p.Name, true, nil
			}
		}
	}
	found, err := s.personOfSlackID(ctx, id)
	if err != nil {
		return "", false, err
	}
	for _, p := range found {
		if _, ok := cat.Person(p); ok {
			return p, true, nil
		}
	}
	return "", false, nil
}

// slackIDOf is a person's Slack member ID: from the catalog or contact
// methods, else the one found by email.
func (s *Service) slackIDOf(ctx context.Context, dir *oncall.Directory, person string) (string, bool) {
	for _, m := range dir.ContactMethods(person) {
		if id, ok := notify.SlackMemberID(m.Address); ok && m.Type == oncall.ContactSlack {
			return id, true
		}
	}
	id, _, _, ok, err := s.slackUserOf(ctx, person)
	if err != nil || !ok || id == "" {
		return "", false
	}
	return id, true
}

// personByContact maps an address of a contact method type (a phone
// number for sms and voice, a username for mattermost) to the person whose
// method it is.
func personByContact(dir *oncall.Directory, types []string, address string) (string, bool) {
	norm := func(s string) string { return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@")) }
	for _, p := range dir.Catalog().People {
		for _, m := range dir.ContactMethods(p.Name) {
			if slices.Contains(types, m.Type) && norm(m.Address) == norm(address) {
				return p.Name, true
			}
		}
	}
	return "", false
}

// SyncSlackUsers enqueues a users.lookupByEmail job for every person with
// an email and no Slack member ID in the catalog whose lookup is older
// than a day (or never ran). The app calls it at start and after a config
// reload.
func (s *Service) SyncSlackUsers(ctx context.Context) error {
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	var jobs []lookupPayload
	for _, p := range dir.Catalog().People {
		if p.Email == "" {
			continue
		}
		if _, ok := s.slackIDFromConfig(dir, p); ok {
			continue
		}
		_, email, at, ok, err := s.slackUserOf(ctx, p.Name)
		if err != nil {
			return err
		}
		if ok && email == p.Email && now.Sub(at) < 24*time.Hour {
			continue
		}
		jobs = append(jobs, lookupPayload{Person: p.Name, Email: p.Email})
	}
	if len(jobs) == 0 {
		return nil
	}
	day := now.UTC().Format("2006-01-02")
	err = s.DB.InTx(ctx, func(tx *db.Tx) error {
		for _, j := range jobs {
			if err := enqueue(ctx, tx, JobSlackLookup, "chatops:slack:lookup:"+j.Person+":"+j.Email+":"+day, j, time.Time{}, 5); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.Engine.Wake()
	}
	return err
}

func (s *Service) slackIDFromConfig(dir *oncall.Directory, p catalog.Person) (string, bool) {
	for _, m := range dir.ContactMethods(p.Name) {
		if id, ok := notify.SlackMemberID(m.Address); ok && m.Type == oncall.ContactSlack {
			return id, true
		}
	}
	return "", false
}

type lookupPayload struct {
	Person string `json:"person"`
	Email  string `json:"email"`
}

func (s *Service) runSlackLookup(ctx context.Context, j engine.Job) error {
	var p lookupPayload
	if err := decodePayload(j, &p); err != nil {
		return err
	}
	set := s.settings()
	if set.SlackBotToken == "" {
		return nil
	}
	id, err := s.slack(set).LookupByEmail(ctx, p.Email)
	switch {
	case isNotFound(err):
		id = ""
	case err != nil:
		return slackErr(err)
	}
	return s.storeSlackUser(ctx, p.Person, p.Email, id, s.Clock.Now())
}

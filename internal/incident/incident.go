// Package incident holds incidents: their lifecycle (triggered →
// acknowledged → resolved → closed), their timeline, suspects (recent
// changes on the service and its dependencies), inbound alerts
// (Alertmanager, GitHub issues, a generic webhook, other capabilities through
// Manager.Alert), maintenance windows, heartbeat monitors, and the durable
// escalation that pages people through internal/notify.
//
// Everything an event causes is written in the event's transaction:
// opening an incident enqueues its escalation steps as engine jobs, an
// escalation step (a transactional job) checks the incident's state and
// enqueues its page jobs in the transaction that completes it, and a page
// job delivers one message with at-least-once semantics (docs/oncall.md).
// Reassigning an incident and asking responders to join enqueue their page
// jobs in the transaction that records them on the timeline.
//
// Inbound alerts are deduplicated by (source, group key) for the incident
// and by fingerprint for each alert, never by text, so the retries of an
// at-least-once sender such as Alertmanager open one incident and page once.
package incident

import (
	"strings"
	"time"

	tandem "github.com/tandemhq/tandem"
)

// Severities, most severe first.
var Severities = []string{"sev1", "sev2", "sev3", "sev4"}

// Statuses of an incident.
const (
	Triggered    = "triggered"
	Acknowledged = "acknowledged"
	Resolved     = "resolved"
	Closed       = "closed"
)

// Impact is what an incident cost.
type Impact struct {
	UsersAffected   int64   `json:"users_affected"`
	RevenueEstimate float64 `json:"revenue_estimate"`
}

// Incident is one incident as the API shows it.
type Incident struct {
	ID             int64             `json:"id"`
	Title          string            `json:"title"`
	Services       []string          `json:"services"`
	Severity       string            `json:"severity"`
	Status         string            `json:"status"`
	Commander      string            `json:"commander"`
	StartedAt      time.Time         `json:"started_at"`
	DetectedAt     time.Time         `json:"detected_at"`
	AcknowledgedAt *time.Time        `json:"acknowledged_at"`
	ResolvedAt     *time.Time        `json:"resolved_at"`
	ClosedAt       *time.Time        `json:"closed_at"`
	Summary        string            `json:"summary"`
	Labels         map[string]string `json:"labels"`
	Impact         Impact            `json:"impact"`
	Links          map[string]string `json:"links"`
	// Source is where it came from: manual, alertmanager, github, webhook,
	// heartbeat, slo, …
	Source string `json:"source"`
	// Policy is the escalation policy paging for it ("" when none).
	Policy string `json:"policy,omitempty"`
	// Assignee is the person the incident was reassigned to ("" while its
	// escalation policy pages for it).
	Assignee string `json:"assignee,omitempty"`
	// Responders are the people asked to join it (filled by Get).
	Responders []Responder `json:"responders,omitempty"`
	// Suspects are changes in the two hours before StartedAt on its
	// services and their dependencies (filled by Get).
	Suspects []Suspect `json:"suspects,omitempty"`

	generation  int
	triggeredAt time.Time
}

// Responder is a person asked to join an incident without being
// assigned it.
type Responder struct {
	Person      string    `json:"person"`
	RequestedBy string    `json:"requested_by,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
}

// Suspect is a change that may have caused an incident.
type Suspect struct {
	ChangeID int64     `json:"change_id"`
	Service  string    `json:"service"`
	Kind     string    `json:"kind"`
	Version  string    `json:"version,omitempty"`
	Status   string    `json:"status,omitempty"`
	At       time.Time `json:"at"`
}

// Event is one timeline entry.
type Event struct {
	ID         int64          `json:"id"`
	IncidentID int64          `json:"incident_id"`
	At         time.Time      `json:"at"`
	Kind       string         `json:"kind"`
	Actor      string         `json:"actor,omitempty"`
	Message    string         `json:"message"`
	Data       map[string]any `json:"data,omitempty"`
}

// Timeline event kinds.
const (
	EvOpened       = "opened"
	EvAlertFired   = "alert_fired"
	EvAlertResolve = "alert_resolved"
	EvStatus       = "status"
	EvEscalation   = "escalation"
	EvPage         = "page"
	EvPageFailed   = "page_failed"
	EvNote         = "note"
	EvChange       = "change"
	EvMaintenance  = "maintenance"
	EvUpdate       = "update"
	EvReassign     = "reassign"
	EvResponder    = "responder"
)

// OpenInput opens an incident by hand (CLI, API, dashboard).
type OpenInput struct {
	Title     string            `json:"title"`
	Services  []string          `json:"services"`
	Severity  string            `json:"severity"`
	Commander string            `json:"commander,omitempty"`
	Summary   string            `json:"summary,omitempty"`
	StartedAt time.Time         `json:"started_at,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Links     map[string]string `json:"links,omitempty"`
	Impact    *Impact           `json:"impact,omitempty"`
	// Actor is who opened it (the token name for the API).
	Actor string `json:"-"`
	// Source defaults to "manual".
	Source string `json:"-"`
	// Page, when false, records the incident without paging anyone
	// (imported history). The API always pages.
	NoPage bool `json:"-"`

	// group is what the alert group that opens it says (see AlertGroup.Mirror).
	group groupState
}

// ParseSeverity accepts sev1..sev4, 1..4 and SEV1 forms.
func ParseSeverity(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) == 1 {
		s = "sev" + s
	}
	for _, v := range Severities {
		if s == v {
			return v, true
		}
	}
	return "", false
}

func (in *OpenInput) validate(now time.Time) error {
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		return tandem.FieldErrorf("title", "title is required")
	}
	if len(in.Title) > 500 {
		return tandem.FieldErrorf("title", "title is longer than 500 characters")
	}
	sev, ok := ParseSeverity(in.Severity)
	if !ok {
		return tandem.FieldErrorf("severity", "want sev1, sev2, sev3 or sev4; got %q", in.Severity)
	}
	in.Severity = sev
	if len(in.Services) == 0 {
		return tandem.FieldErrorf("services", "at least one service is required")
	}
	if in.StartedAt.IsZero() {
		in.StartedAt = now
	}
	if in.StartedAt.After(now.Add(5 * time.Minute)) {
		return tandem.FieldErrorf("started_at", "impact start %s is in the future", in.StartedAt.Format(time.RFC3339))
	}
	if in.Impact != nil && (in.Impact.UsersAffected < 0 || in.Impact.RevenueEstimate < 0) {
		return tandem.FieldErrorf("impact", "impact figures must not be negative")
	}
	return nil
}

// Update changes an incident's descriptive fields; nil fields stay.
type Update struct {
	Title     *string           `json:"title,omitempty"`
	Severity  *string           `json:"severity,omitempty"`
	Commander *string           `json:"commander,omitempty"`
	Summary   *string           `json:"summary,omitempty"`
	StartedAt *time.Time        `json:"started_at,omitempty"`
	Impact    *Impact           `json:"impact,omitempty"`
	Links     map[string]string `json:"links,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Filter selects incidents for List.
type Filter struct {
	Status   []string // any of these; empty: all
	Service  string
	Severity string
	Since    time.Time // started at or after
	Until    time.Time // started before
	Limit    int       // default 100, at most 10000
}

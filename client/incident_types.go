package client

import (
	"time"
)

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
	Impact         IncidentImpact    `json:"impact"`
	Links          map[string]string `json:"links"`
	// Source is where it came from: manual, alertmanager, github, webhook,
	// heartbeat, slo, …
	Source string `json:"source"`
	// Policy is the escalation policy paging for it ("" when none).
	Policy string `json:"policy,omitempty"`
	// Assignee is the person the incident was reassigned to ("" while its
	// escalation policy pages for it).
	Assignee string `json:"assignee,omitempty"`
	// Responders are the people asked to join it (filled by Client.Incident).
	Responders []IncidentResponder `json:"responders,omitempty"`
	// Suspects are changes in the two hours before StartedAt on its
	// services and their dependencies (filled by Client.Incident).
	Suspects []IncidentSuspect `json:"suspects,omitempty"`
}

// NewIncident opens an incident by hand (CLI, API, dashboard).
type NewIncident struct {
	Title     string            `json:"title"`
	Services  []string          `json:"services"`
	Severity  string            `json:"severity"`
	Commander string            `json:"commander,omitempty"`
	Summary   string            `json:"summary,omitempty"`
	StartedAt time.Time         `json:"started_at,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Links     map[string]string `json:"links,omitempty"`
	Impact    *IncidentImpact   `json:"impact,omitempty"`
}

// IncidentUpdate changes an incident's descriptive fields; nil fields stay.
type IncidentUpdate struct {
	Title     *string           `json:"title,omitempty"`
	Severity  *string           `json:"severity,omitempty"`
	Commander *string           `json:"commander,omitempty"`
	Summary   *string           `json:"summary,omitempty"`
	StartedAt *time.Time        `json:"started_at,omitempty"`
	Impact    *IncidentImpact   `json:"impact,omitempty"`
	Links     map[string]string `json:"links,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// IncidentEvent is one timeline entry.
type IncidentEvent struct {
	ID         int64          `json:"id"`
	IncidentID int64          `json:"incident_id"`
	At         time.Time      `json:"at"`
	Kind       string         `json:"kind"`
	Actor      string         `json:"actor,omitempty"`
	Message    string         `json:"message"`
	Data       map[string]any `json:"data,omitempty"`
}

// MaintenanceWindow is a maintenance window: alerts on Service between StartsAt and
// EndsAt are recorded but page nobody. EndedAt, when set, is when someone
// ended it before EndsAt (or cancelled it before StartsAt): it is over
// from then on.
type MaintenanceWindow struct {
	ID        int64      `json:"id"`
	Service   string     `json:"service"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Reason    string     `json:"reason"`
	CreatedBy string     `json:"created_by,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	EndedBy   string     `json:"ended_by,omitempty"`
}

// IncidentAssignment names who an incident is reassigned to: a person or an
// escalation policy, exactly one.
type IncidentAssignment struct {
	Person string `json:"person,omitempty"`
	Policy string `json:"policy,omitempty"`
}

// IncidentImpact is what an incident cost.
type IncidentImpact struct {
	UsersAffected   int64   `json:"users_affected"`
	RevenueEstimate float64 `json:"revenue_estimate"`
}

// IncidentResponder is a person asked to join an incident without being
// assigned it.
type IncidentResponder struct {
	Person      string    `json:"person"`
	RequestedBy string    `json:"requested_by,omitempty"`
	RequestedAt time.Time `json:"requested_at"`
}

// IncidentSuspect is a change that may have caused an incident.
type IncidentSuspect struct {
	ChangeID int64     `json:"change_id"`
	Service  string    `json:"service"`
	Kind     string    `json:"kind"`
	Version  string    `json:"version,omitempty"`
	Status   string    `json:"status,omitempty"`
	At       time.Time `json:"at"`
}

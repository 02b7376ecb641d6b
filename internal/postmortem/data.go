package postmortem

import (
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/incident"
)

// Data is what a postmortem template sees. Every field is plain data, so a
// team's template may use any of it; Extra holds the fields a team adds in
// config (severity rating, customer communications, chat log link…).
type Data struct {
	Incident IncidentData
	Team     string
	Timeline []TimelineEntry
	Deploys  []Change // changes on the incident's services in the lookback before it and during it
	Pages    []Page
	// StatusUpdates are the updates posted to the status page and the
	// incident channel (tandem incident update), in order.
	StatusUpdates []StatusUpdate
	Impact        Impact
	Metrics       Metrics
	ActionItems   []ActionItem
	GeneratedAt   time.Time
	Extra         map[string]string
}

// IncidentData is the incident as a template sees it; times are UTC and
// zero when the step has not happened.
type IncidentData struct {
	ID             int64
	Title          string
	Severity       string
	Services       []string
	Commander      string
	Summary        string
	Source         string
	StartedAt      time.Time
	DetectedAt     time.Time
	AcknowledgedAt time.Time
	ResolvedAt     time.Time
	ClosedAt       time.Time
	Labels         map[string]string
	Links          map[string]string
}

// TimelineEntry is one line of the timeline.
type TimelineEntry struct {
	At      time.Time
	Kind    string // detection, alert, escalation, page, ack, status, note, deploy, rollback, migration, config, flag, …
	Actor   string
	Message string
}

// Change is a change near the incident.
type Change struct {
	ID      int64
	Service string
	Kind    string
	Version string
	Status  string
	Actor   string
	At      time.Time
	During  bool // true when it happened after the incident started
}

// Page is one page sent during the incident.
type Page struct {
	At     time.Time
	Person string
	Method string
	Failed bool
}

// StatusUpdate is one status update: investigating, identified,
// monitoring or resolved, with its message.
type StatusUpdate struct {
	At      time.Time
	Status  string
	Message string
	Actor   string
}

// SLOImpact is the error budget one SLO spent during the incident.
type SLOImpact struct {
	Name    string
	Service string
	// Consumed is the share of the SLO's whole budget spent, 0..1.
	Consumed float64
}

// Impact is what the incident cost.
type Impact struct {
	Duration        time.Duration // started → resolved (or closed)
	DowntimeMinutes float64
	UsersAffected   int64
	RevenueLoss     float64
	// RevenueSource is "incident" (an estimate recorded on the incident),
	// "revenue_per_minute" (the services' rates × downtime) or "" (unknown).
	RevenueSource string
	SLOs          []SLOImpact
}

// Metrics are the response times.
type Metrics struct {
	TimeToDetect      time.Duration // started → detected
	TimeToAcknowledge time.Duration // detected → acknowledged (0 when never acknowledged)
	TimeToResolve     time.Duration // started → resolved
}

// Inputs is everything BuildData reads.
type Inputs struct {
	Incident incident.Incident
	Events   []incident.Event
	Changes  []change.Event
	SLOs     []SLOImpact
	// RevenuePerMinute per service, from the catalog.
	RevenuePerMinute map[string]float64
	Team             string
	Extra            map[string]string
	Now              time.Time
}

// BuildData assembles a template's data from the incident, its timeline,
// the changes around it and the SLO impact. It is pure.
func BuildData(in Inputs) Data {
	inc := in.Incident
	d := Data{Team: in.Team, GeneratedAt: in.Now.UTC(), Extra: in.Extra}
	d.Incident = IncidentData{
		ID: inc.ID, Title: inc.Title, Severity: inc.Severity, Services: append([]string(nil), inc.Services...),
		Commander: inc.Commander, Summary: strings.TrimSpace(inc.Summary), Source: inc.Source,
		StartedAt: inc.StartedAt.UTC(), DetectedAt: inc.DetectedAt.UTC(),
		AcknowledgedAt: deref(inc.AcknowledgedAt), ResolvedAt: deref(inc.ResolvedAt), ClosedAt: deref(inc.ClosedAt),
		Labels: inc.Labels, Links: inc.Links,
	}
	if d.Extra == nil {
		d.Extra = map[string]string{}
	}
	if d.Incident.DetectedAt.IsZero() {
		d.Incident.DetectedAt = d.Incident.StartedAt
	}
	end := d.Incident.ResolvedAt
	if end.IsZero() {
		end = d.Incident.ClosedAt
	}
	// Response metrics.
	if !d.Incident.DetectedAt.Before(d.Incident.StartedAt) {
		d.Metrics.TimeToDetect = d.Incident.DetectedAt.Sub(d.Incident.StartedAt)
	}
	if !d.Incident.AcknowledgedAt.IsZero() && d.Incident.AcknowledgedAt.After(d.Incident.DetectedAt) {
		d.Metrics.TimeToAcknowledge = d.Incident.AcknowledgedAt.Sub(d.Incident.DetectedAt)
	}
	if !end.IsZero() && end.After(d.Incident.StartedAt) {
		d.Metrics.TimeToResolve = end.Sub(d.Incident.StartedAt)
		d.Impact.Duration = d.Metrics.TimeToResolve
		d.Impact.DowntimeMinutes = d.Impact.Duration.Minutes()
	}
	// Impact.
	d.Impact.UsersAffected = inc.Impact.UsersAffected
	switch {
	case inc.Impact.RevenueEstimate > 0:
		d.Impact.RevenueLoss, d.Impact.RevenueSource = inc.Impact.RevenueEstimate, "incident"
	default:
		var rate float64
		for _, s := range inc.Services {
			rate += in.RevenuePerMinute[s]
		}
		if rate > 0 && d.Impact.DowntimeMinutes > 0 {
			d.Impact.RevenueLoss = round2(rate * d.Impact.DowntimeMinutes)
			d.Impact.RevenueSource = "revenue_per_minute"
		}
	}
	d.Impact.SLOs = append([]SLOImpact(nil), in.SLOs...)
	sort.Slice(d.Impact.SLOs, func(i, j int) bool { return d.Impact.SLOs[i].Name < d.Impact.SLOs[j].Name })
	// Changes.
	listed := map[int64]bool{}
	for _, c := range in.Changes {
		listed[c.ID] = true
		at := c.At().UTC()
		d.Deploys = append(d.Deploys, Change{ID: c.ID, Service: c.Service, Kind: c.Kind, Version: c.Version, Status: c.Status,
			Actor: c.Actor, At: at, During: !at.Before(d.Incident.StartedAt)})
		msg := c.Kind + " of " + c.Service
		if c.Version != "" {
			msg += " " + c.Version
		}
		if c.Status != "" && c.Status != "success" {
			msg += " (" + strings.ReplaceAll(c.Status, "_", " ") + ")"
		}
		d.Timeline = append(d.Timeline, TimelineEntry{At: at, Kind: c.Kind, Actor: c.Actor, Message: msg})
	}
	sort.SliceStable(d.Deploys, func(i, j int) bool { return d.Deploys[i].At.Before(d.Deploys[j].At) })
	// The incident's own timeline.
	d.Timeline = append(d.Timeline, TimelineEntry{At: d.Incident.StartedAt, Kind: "impact_start", Message: "impact started"})
	for _, e := range in.Events {
		kind := e.Kind
		if e.Kind == incident.EvChange {
			// A suspect the incident recorded: listed once, from the change itself.
			if id, ok := e.Data["change_id"].(float64); ok && listed[int64(id)] {
				continue
			}
		}
		switch e.Kind {
		case incident.EvOpened:
			kind = "detection"
		case incident.EvPage, incident.EvPageFailed:
			p := Page{At: e.At.UTC(), Failed: e.Kind == incident.EvPageFailed}
			if v, ok := e.Data["person"].(string); ok {
				p.Person = v
			}
			if v, ok := e.Data["method"].(string); ok {
				p.Method = v
			}
			d.Pages = append(d.Pages, p)
		case incident.EvStatusUpdate:
			if u, ok := incident.StatusUpdateOf(e); ok {
				d.StatusUpdates = append(d.StatusUpdates, StatusUpdate{At: e.At.UTC(), Status: u.Status, Message: u.Message, Actor: e.Actor})
			}
		case incident.EvStatus:
			to, _ := e.Data["to"].(string)
			switch to {
			case incident.Acknowledged:
				kind = "ack"
			case incident.Resolved:
				kind = "resolution"
			case incident.Closed:
				kind = "closed"
			}
		}
		d.Timeline = append(d.Timeline, TimelineEntry{At: e.At.UTC(), Kind: kind, Actor: e.Actor, Message: oneLine(e.Message)})
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	return d
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return s
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

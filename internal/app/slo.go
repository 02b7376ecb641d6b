package app

import (
	"context"
	"errors"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// wireSLO builds the SLOs, SLI ingest, error budgets and burn-rate alerts capability: its stores for the API and
// dashboard, and its background modules.
func (m *Main) wireSLO(ctx context.Context) error {
	cfg := m.Config.Get().SLO
	store := slo.NewStore(m.DB)
	svc, err := slo.NewService(slo.Options{
		Store:        store,
		Definitions:  func() []*slo.Definition { return m.Config.Get().SLO.Definitions },
		Prometheus:   sli.NewPrometheus(nil),
		Changes:      changeOutcomes{change.NewStore(m.DB)},
		Sink:         incidentSink{m: m},
		Registry:     m.Registry,
		Log:          m.Options.Log.With("module", "slo"),
		Clock:        m.Options.Clock,
		Interval:     cfg.EvaluateEvery,
		QueryTimeout: cfg.QueryTimeout,
	})
	if err != nil {
		return err
	}
	m.API.SLO.Service = svc
	m.API.SLO.Store = store
	m.Modules = append(m.Modules, m.Leaders.Loop("slo-evaluator", svc.Interval(), svc.Cycle))
	return nil
}

// changeOutcomes reads finished change events for change-based SLIs.
type changeOutcomes struct{ st *change.Store }

func (c changeOutcomes) ChangeOutcomes(ctx context.Context, service, kind, environment string, from, to time.Time) ([]slo.ChangeOutcome, error) {
	evs, err := c.st.List(ctx, change.Filter{
		Services: []string{service}, Kinds: []string{kind}, Environment: environment,
		Statuses: []string{change.StatusSuccess, change.StatusFailed, change.StatusRolledBack},
		Since:    from, Until: to, Limit: 100000, Ascending: true,
	})
	if err != nil {
		return nil, err
	}
	out := make([]slo.ChangeOutcome, len(evs))
	for i, e := range evs {
		out[i] = slo.ChangeOutcome{At: e.At(), Success: !e.Failed()}
	}
	return out, nil
}

// incidentSink opens and resolves incidents for SLO burn-rate alerts
// through the incident capability's alert intake. The manager is looked up
// at each send because wireIncident runs after wireSLO.
//
// The alert joins the incident of its SLO and severity
// (incident.SLOGroupKey), the one the same alert opens when the rules of
// `tandem slo rules` send it through Alertmanager, and its severity comes
// from the labels through incidents.alert_mapping as theirs does: page is
// sev2, and a ticket opens nothing unless the mapping names it.
type incidentSink struct{ m *Main }

func (s incidentSink) Send(ctx context.Context, e slo.AlertEvent) error {
	mgr := s.m.API.Incident.Manager
	if mgr == nil {
		return errors.New("the incident capability is not wired")
	}
	status := incident.Firing
	if e.Status == "resolved" {
		status = incident.AlertClosed
	}
	key := incident.SLOGroupKey(e.SLO, e.Severity)
	_, err := mgr.Alert(ctx, incident.AlertInput{
		Source: "slo", GroupKey: key, Fingerprint: key, Service: e.Service,
		Title: e.Title, Summary: e.Summary, Status: status, Labels: e.Labels, StartsAt: e.StartsAt,
	})
	return err
}

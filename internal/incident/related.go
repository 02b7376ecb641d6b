package incident

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
)

// LabelEnvironment is the incident label naming its environment; an
// incident without it is a production incident. SLO alerts carry it.
const LabelEnvironment = "environment"

// EnvironmentOf is the environment named by labels, production when none.
func EnvironmentOf(labels map[string]string) string {
	if e := strings.TrimSpace(labels[LabelEnvironment]); e != "" {
		return e
	}
	return catalog.DefaultEnvironment
}

// Environment is the incident's environment (EnvironmentOf its labels):
// its suspects and related changes come from there only.
func (inc Incident) Environment() string { return EnvironmentOf(inc.Labels) }

// changeScope returns the services whose changes concern an incident on
// services: the services themselves and, from the catalog, the services they
// depend on, since a bad deploy of a dependency breaks its dependents too.
func (m *Manager) changeScope(services []string) []string {
	scope := slices.Clone(services)
	if m.Catalog == nil {
		return scope
	}
	cat := m.Catalog()
	if cat == nil {
		return scope
	}
	for _, s := range services {
		if svc, ok := cat.Service(s); ok {
			for _, dep := range svc.DependsOn {
				if !slices.Contains(scope, dep) {
					scope = append(scope, dep)
				}
			}
		}
	}
	return scope
}

// withRelated merges into the stored timeline tl the changes related to the
// incident (relatedChanges), in time order; on equal times stored events
// come first. Related changes are read from the change log at each read
// rather than written to the timeline when they are recorded: the change
// path stays free of incident writes, and a change recorded late (a CI
// system that reports a rollback after the fact) still shows, in its place.
// The timeline matters most while things are going wrong, so a failure to
// read the change log is logged and the stored events are returned alone.
func (m *Manager) withRelated(ctx context.Context, inc Incident, tl []Event) []Event {
	if m.Changes == nil {
		return tl
	}
	// Suspects attached at open are stored as change events with their
	// change_id; a suspect at impact start also lies in the window read
	// here and must not show twice.
	known := map[int64]bool{}
	for _, e := range tl {
		if e.Kind != EvChange {
			continue
		}
		if id, ok := e.Data["change_id"].(float64); ok {
			known[int64(id)] = true
		}
	}
	rel, err := m.relatedChanges(ctx, inc, known)
	if err != nil {
		m.log.Warn("incident: reading related changes for the timeline failed", "incident", inc.ID, "err", err)
		return tl
	}
	if len(rel) == 0 {
		return tl
	}
	tl = append(tl, rel...)
	slices.SortStableFunc(tl, func(a, b Event) int { return a.At.Compare(b.At) })
	return tl
}

// relatedChanges returns, as timeline events, the changes on the incident's
// services and their dependencies whose moment lies between its impact start
// and its resolve (now while it is unresolved), oldest first, leaving out
// the changes whose ids are in known.
func (m *Manager) relatedChanges(ctx context.Context, inc Incident, known map[int64]bool) ([]Event, error) {
	if m.Changes == nil {
		return nil, nil
	}
	scope := m.changeScope(inc.Services)
	if len(scope) == 0 {
		// Around reads an empty list as every service.
		return nil, nil
	}
	end := m.clock.Now()
	if inc.ResolvedAt != nil {
		end = *inc.ResolvedAt
	}
	if end.Before(inc.StartedAt) {
		// Impact start was moved past the resolve: no window is left.
		return nil, nil
	}
	evs, err := m.Changes.AroundIn(ctx, inc.Environment(), scope, inc.StartedAt, 0, end.Sub(inc.StartedAt))
	if err != nil {
		return nil, fmt.Errorf("related changes of incident #%d: %w", inc.ID, err)
	}
	// Around orders by distance from the start, which with nothing before
	// it is time order up to ties; the change id settles those, so the
	// timeline reads the same at every load.
	slices.SortFunc(evs, func(a, b change.Event) int {
		if c := a.At().Compare(b.At()); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	out := []Event{}
	for _, ev := range evs {
		if known[ev.ID] {
			continue
		}
		out = append(out, changeEvent(inc.ID, ev))
	}
	return out, nil
}

// changeEvent renders a change as a timeline event. It has no id (it is not
// stored), its actor is who made the change, and its data has the shape a
// stored event's data decodes to: encoding/json gives numbers as float64,
// and readers of the timeline (postmortems matching change_id to the changes
// they list) read both kinds of event alike.
func changeEvent(incidentID int64, ev change.Event) Event {
	msg := fmt.Sprintf("change: %s %s of %s", ev.Kind, ev.Version, ev.Service)
	if ev.Environment != "" && ev.Environment != catalog.DefaultEnvironment {
		// Related changes come from the incident's environment; say
		// which, so a staging incident's timeline reads as staging.
		msg += " in " + ev.Environment
	}
	if ev.Status != "" && ev.Status != change.StatusSuccess {
		msg += " (" + strings.ReplaceAll(ev.Status, "_", " ") + ")"
	}
	return Event{
		IncidentID: incidentID,
		At:         ev.At(),
		Kind:       EvChange,
		Actor:      ev.Actor,
		// Version is free text: fold any line breaks or runs of spaces.
		Message: strings.Join(strings.Fields(msg), " "),
		Data: map[string]any{
			"change_id": float64(ev.ID),
			"service":   ev.Service,
			"kind":      ev.Kind,
			"version":   ev.Version,
			"status":    ev.Status,
		},
	}
}

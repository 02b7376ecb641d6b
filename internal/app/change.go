package app

import (
	"context"
	"strconv"
	"time"

	"github.com/tandemhq/tandem/internal/api"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/incident"
)

// wireChange builds the change events, GitHub deploy webhooks and DORA
// metrics capability: the change store and DORA loader for the API and
// dashboard, and the tandem_dora_* gauges on /metrics. Incidents reach DORA
// through m.API.Change.DORA.Incidents, which the incident wiring sets with
// IncidentsForDORA (until then DORA uses deploy statuses and rollbacks).
func (m *Main) wireChange(ctx context.Context) error {
	store := change.NewStore(m.DB)
	loader := &dora.Loader{Changes: store}
	m.API.Change = api.ChangeDeps{Store: store, DORA: loader}
	col := dora.NewCollector(
		func() *dora.Loader {
			l := *loader
			c := m.Config.Get().Change.DORA
			l.Options = dora.Options{IncidentWindow: c.IncidentWindow, ReworkWindow: c.ReworkWindow}
			return &l
		},
		func() *catalog.Catalog { return m.Config.Get().Catalog },
		m.Options.Clock.Now,
		m.Options.Log.With("module", "dora"),
	)
	return m.Registry.Register(col)
}

// IncidentsForDORA adapts the incident manager to dora.IncidentLister: one
// dora.Incident per service of each incident, linked to a deploy when the
// incident carries the label deploy_id (or change_id) with the change
// event's id.
func IncidentsForDORA(mgr *incident.Manager) dora.IncidentLister {
	return incidentLister{mgr}
}

type incidentLister struct{ mgr *incident.Manager }

// DORAIncidents lists the incidents that started in [from, to) on services.
func (l incidentLister) DORAIncidents(ctx context.Context, services []string, from, to time.Time) ([]dora.Incident, error) {
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	incs, err := l.mgr.List(ctx, incident.Filter{Since: from, Until: to, Limit: 10000})
	if err != nil {
		return nil, err
	}
	var out []dora.Incident
	for _, inc := range incs {
		var deployID int64
		for _, k := range []string{"deploy_id", "change_id"} {
			if v, ok := inc.Labels[k]; ok {
				deployID, _ = strconv.ParseInt(v, 10, 64)
				break
			}
		}
		for _, s := range inc.Services {
			if len(want) > 0 && !want[s] {
				continue
			}
			d := dora.Incident{Service: s, StartedAt: inc.StartedAt, DeployID: deployID}
			if inc.ResolvedAt != nil {
				d.ResolvedAt = *inc.ResolvedAt
			}
			out = append(out, d)
		}
	}
	return out, nil
}

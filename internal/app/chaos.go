package app

import (
	"context"

	"github.com/tandemhq/tandem/internal/api"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/chaos"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// wireChaos builds the chaos experiments capability: runs judged by the
// SLOs of their service and environment, and imports of chaos tools'
// reports. It needs the SLO evaluation of wireSLO.
func (m *Main) wireChaos(ctx context.Context) error {
	svc := m.API.SLO.Service
	if svc == nil {
		return nil
	}
	changes := m.API.Change.Store
	if changes == nil {
		changes = change.NewStore(m.DB)
	}
	sliStore := m.API.SLO.Store
	if sliStore == nil {
		sliStore = slo.NewStore(m.DB)
	}
	m.API.Chaos = api.ChaosDeps{Service: &chaos.Service{
		Changes: changes,
		Store:   chaos.NewStore(m.DB),
		SLOs:    svc,
		Reader:  gate.SLIReader{Store: sliStore, Prometheus: sli.NewPrometheus(nil)},
		Clock:   m.Options.Clock,
	}}
	return nil
}

package app

import (
	"context"

	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/web"
)

// wireWeb builds the dashboard with the stores of every capability. It runs
// after the other wire functions; a capability that did not wire itself is
// left nil and its pages say it is not available.
func (m *Main) wireWeb(ctx context.Context) error {
	d := web.Deps{
		Config: m.Config, DB: m.DB, Tokens: m.Tokens, Log: m.Options.Log, Clock: m.Options.Clock,
		PublicRead: m.Options.PublicRead,
	}
	if m.API.SLO.Service != nil {
		d.SLOs = m.API.SLO.Service
	}
	if m.API.Change.Store != nil {
		d.Changes = m.API.Change.Store
	}
	if m.API.Change.DORA != nil {
		d.DORA = m.API.Change.DORA
		d.DORAOptions = func() dora.Options {
			c := m.Config.Get().Change.DORA
			return dora.Options{IncidentWindow: c.IncidentWindow, ReworkWindow: c.ReworkWindow}
		}
	}
	if m.API.Incident.Manager != nil {
		d.Incidents = m.API.Incident.Manager
	}
	if m.API.Oncall.Service != nil {
		d.Oncall = m.API.Oncall.Service
	}
	m.API.Web = web.New(d)
	return nil
}

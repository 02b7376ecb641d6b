package app

import (
	"context"
	"time"

	"github.com/tandemhq/tandem/internal/dora"
	"github.com/tandemhq/tandem/internal/okr"
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
	if m.API.Gate.Results != nil {
		d.Gates = m.API.Gate.Results
	}
	if m.API.Chaos.Service != nil {
		d.Chaos = m.API.Chaos.Service
	}
	if m.API.Incident.Manager != nil {
		d.Incidents = m.API.Incident.Manager
	}
	if m.API.Oncall.Service != nil {
		d.Oncall = m.API.Oncall.Service
	}
	if pm := m.API.Learning.Postmortems; pm != nil {
		d.Postmortems = pm.Store
		d.PostmortemEditor = pm
	}
	if m.API.Learning.Toil != nil {
		d.Toil = m.API.Learning.Toil
	}
	d.OncallHours = m.API.Learning.OncallHours
	if m.API.Learning.OKRMetrics != nil {
		d.OKRs = okrEvaluator{m}
	}
	m.API.Web = web.New(d)
	return nil
}

// okrEvaluator evaluates the configured objectives with the OKR metrics the
// learning wiring bound to the capabilities.
type okrEvaluator struct{ m *Main }

// Evaluate measures the objectives of quarter q (team "" for all) at now.
func (e okrEvaluator) Evaluate(ctx context.Context, q okr.Quarter, team string, now time.Time) ([]okr.ObjectiveStatus, error) {
	cfg := e.m.Config.Get()
	services := func(team string) []string {
		if team == "" {
			return cfg.Catalog.ServiceNames()
		}
		return cfg.Catalog.ServicesOfTeam(team)
	}
	return okr.Evaluate(ctx, cfg.Learning.Objectives, q, team, e.m.API.Learning.OKRMetrics, services, now)
}

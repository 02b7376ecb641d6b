package web

import (
	"cmp"
	"context"
	"math"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

// SLOs is what the dashboard needs of the SLO capability. *slo.Service
// implements it.
type SLOs interface {
	// Definitions returns the SLOs of the live config.
	Definitions() []*slo.Definition
	// StatusAll evaluates every SLO at now.
	StatusAll(ctx context.Context, now time.Time) ([]slo.Status, error)
	// Last returns the latest background evaluation of every SLO.
	Last() []slo.Status
	// Status evaluates one SLO at now.
	Status(ctx context.Context, name string, now time.Time) (slo.Status, error)
	// History returns hourly SLI and remaining budget in (from, to].
	History(ctx context.Context, name string, from, to time.Time) ([]slo.HistoryPoint, error)
}

// sloStatuses returns a status for every defined SLO: the background
// evaluator's latest when it has one for every SLO (cheap, for pages that
// list all services), else a fresh evaluation of all of them.
func (h *Handler) sloStatuses(ctx context.Context, now time.Time) ([]slo.Status, error) {
	defs := h.deps.SLOs.Definitions()
	last := map[string]slo.Status{}
	for _, st := range h.deps.SLOs.Last() {
		last[st.Name] = st
	}
	out := make([]slo.Status, 0, len(defs))
	for _, d := range defs {
		st, ok := last[d.Name]
		// A result older than a few evaluation periods is not "now".
		if !ok || now.Sub(st.EvaluatedAt) > 5*time.Minute || st.Service != d.Service {
			return h.deps.SLOs.StatusAll(ctx, now)
		}
		out = append(out, st)
	}
	return out, nil
}

// cellOf turns a status into the overview's cell.
func cellOf(st slo.Status) sloCell {
	c := sloCell{Name: st.Name, Status: st.Status, Remaining: orNaN(st.ErrorBudget.Remaining),
		NoData: st.Status == slo.StatusNoData || st.ErrorBudget.Remaining == nil, Burn1h: orNaN(st.BurnRates["1h"]),
		SLI: orNaN(st.SLI), Objective: st.Objective, Page: st.Alerts.Page.Firing, Reason: st.Reason}
	if c.NoData {
		c.Remaining = math.NaN()
	}
	return c
}

// fillSLOs sets each row's SLOs of environment env and their freeze; false
// when the SLO capability is not wired. envs gathers the environments SLOs
// name.
func (h *Handler) fillSLOs(ctx context.Context, now time.Time, env string, rows []overviewRow, index map[string]int, envs map[string]bool) (bool, error) {
	if h.deps.SLOs == nil {
		return false, nil
	}
	sts, err := h.sloStatuses(ctx, now)
	if err != nil {
		return true, err
	}
	for _, st := range sts {
		i, ok := index[st.Service]
		if !ok {
			continue
		}
		stEnv := cmp.Or(st.Environment, slo.DefaultEnvironment)
		envs[stEnv] = true
		if stEnv != env {
			continue
		}
		rows[i].SLOs = append(rows[i].SLOs, cellOf(st))
		if st.Freeze.Active {
			rows[i].Freeze = true
			if rows[i].FreezeReason != "" {
				rows[i].FreezeReason += "; "
			}
			rows[i].FreezeReason += st.Freeze.Reason
		}
	}
	return true, nil
}

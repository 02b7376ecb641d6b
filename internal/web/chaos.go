package web

import (
	"context"
	"html/template"
	"math"
	"time"

	"github.com/tandemhq/tandem/internal/chaos"
	"github.com/tandemhq/tandem/internal/web/chart"
)

// ChaosRuns is what the dashboard needs of the chaos capability.
// *chaos.Service implements it.
type ChaosRuns interface {
	List(ctx context.Context, f chaos.Filter) ([]chaos.Run, error)
	Series(ctx context.Context, r chaos.Run) (map[string][]chaos.Point, error)
}

// chaosPanel is one experiment in the service page's Chaos section: its
// run, verdict and costs, and each judging SLO's SLI over its window.
type chaosPanel struct {
	Run chaos.Run
	// Verdict is the run's verdict, or its status while it runs; Until
	// when the fault ended ("" while it runs).
	Verdict, Until string
	Charts         []template.HTML
	Err            string
}

// chaosPanelsMax is how many experiments the section draws.
const chaosPanelsMax = 10

// chaosPanels reads the service's experiments started in the range, newest
// first, with their SLI charts, and the verdict of each chaos change.
func (h *Handler) chaosPanels(ctx context.Context, service string, tr timeRange) ([]chaosPanel, map[int64]string, error) {
	runs, err := h.deps.Chaos.List(ctx, chaos.Filter{Service: service, Since: tr.From, Limit: 100})
	if err != nil {
		return nil, nil, err
	}
	verdicts := map[int64]string{}
	var out []chaosPanel
	for _, r := range runs {
		if r.StartedAt.After(tr.To) {
			continue
		}
		if r.Verdict != nil {
			verdicts[r.ID] = *r.Verdict
		}
		if len(out) == chaosPanelsMax {
			continue
		}
		p := chaosPanel{Run: r, Verdict: r.Status}
		if r.Verdict != nil {
			p.Verdict = *r.Verdict
		}
		if r.FinishedAt != nil {
			p.Until = when(*r.FinishedAt)
		}
		series, err := h.deps.Chaos.Series(ctx, r)
		if err != nil {
			p.Err = err.Error()
		}
		for _, name := range r.Settings.SLOs {
			pts := series[name]
			if len(pts) == 0 {
				continue
			}
			cp := make([]chart.Point, len(pts))
			for i, x := range pts {
				cp[i] = chart.Point{T: x.T, V: orNaN(x.SLI)}
			}
			to := pts[len(pts)-1].T.Add(time.Minute)
			var markers []chart.Marker
			markers = append(markers, chart.Marker{T: r.StartedAt, Kind: "chaos", Text: "fault starts: " + r.Name, Href: "#change-" + itoa(r.ID)})
			if r.FinishedAt != nil {
				markers = append(markers, chart.Marker{T: *r.FinishedAt, Kind: "chaos", Text: "fault ends: " + r.Name})
			}
			p.Charts = append(p.Charts, chart.TimeSeries{
				Title: name + ": SLI per minute over chaos run " + r.Name, From: pts[0].T, To: to,
				Series:  []chart.Series{{Name: "SLI", Points: cp, Area: true}},
				Markers: markers, Format: chart.Percent, Width: 480, Height: 160,
				FixedY: true, YMin: math.Min(minSLI(cp), 0.9), YMax: 1,
			}.SVG())
		}
		out = append(out, p)
	}
	return out, verdicts, nil
}

func minSLI(pts []chart.Point) float64 {
	m := 1.0
	for _, p := range pts {
		if !math.IsNaN(p.V) && p.V < m {
			m = p.V
		}
	}
	return math.Floor(m*10) / 10
}

package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

// PrometheusReader reads Prometheus-backed SLOs over any window
// (*sli.Prometheus).
type PrometheusReader interface {
	// Counts are the good and total units of the window ending at at.
	Counts(ctx context.Context, def *slo.Definition, window time.Duration, at time.Time) (slo.Counts, error)
	// Quantile is the q-quantile of the SLO's latency histogram over the
	// window ending at at, in milliseconds; ok is false without data.
	Quantile(ctx context.Context, def *slo.Definition, q float64, window time.Duration, at time.Time) (float64, bool, error)
}

// SLIReader reads SLO data over a span of time from where each SLO's data
// lives: native data from the slo capability's store, Prometheus-backed
// SLOs through PromQL over exactly that span. SLOs counting change events
// have no request data here.
type SLIReader struct {
	Store      *slo.Store
	Prometheus PrometheusReader
}

// Window implements WindowReader.
func (r SLIReader) Window(ctx context.Context, def *slo.Definition, from, to time.Time) (WindowData, error) {
	switch def.Indicator.Source {
	case slo.SourceNative:
		if r.Store == nil {
			return WindowData{}, fmt.Errorf("no SLI store configured")
		}
		sum, ok, err := r.Store.Sum(ctx, def.Name, from, to)
		if err != nil || !ok {
			return WindowData{}, err
		}
		return WindowData{Good: float64(sum.Good), Total: float64(sum.Total), Latency: sum.Latency, HasLatency: sum.Latency.Count() > 0}, nil
	case slo.SourcePrometheus:
		if r.Prometheus == nil {
			return WindowData{}, fmt.Errorf("no Prometheus source configured")
		}
		if to.Sub(from) < time.Second {
			return WindowData{}, nil
		}
		c, err := r.Prometheus.Counts(ctx, def, to.Sub(from), to)
		if err != nil {
			return WindowData{}, err
		}
		return WindowData{Good: c.Good, Total: c.Total}, nil
	}
	return WindowData{}, nil
}

// Quantile implements SpanReader: native SLOs from the store's latency
// data of the span, Prometheus SLOs from their latency histogram.
func (r SLIReader) Quantile(ctx context.Context, def *slo.Definition, q float64, from, to time.Time) (float64, bool, error) {
	switch def.Indicator.Source {
	case slo.SourceNative:
		if r.Store == nil {
			return 0, false, fmt.Errorf("no SLI store configured")
		}
		sum, ok, err := r.Store.Sum(ctx, def.Name, from, to)
		if err != nil || !ok {
			return 0, false, err
		}
		v, ok := sum.Quantile(q)
		return v, ok, nil
	case slo.SourcePrometheus:
		if r.Prometheus == nil {
			return 0, false, fmt.Errorf("no Prometheus source configured")
		}
		if to.Sub(from) < time.Second {
			return 0, false, nil
		}
		return r.Prometheus.Quantile(ctx, def, q, to.Sub(from), to)
	}
	return 0, false, nil
}

package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/slo"
)

// SLIReader reads SLO windows from where each SLO's data lives: native
// data from the slo capability's store, Prometheus-backed SLOs through
// their slo.Source (counts only: the Prometheus source has no latency
// histogram, so those SLOs get no latency check).
type SLIReader struct {
	Store      *slo.Store
	Prometheus slo.Source
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
		data, err := r.Prometheus.Data(ctx, def, to)
		if err != nil {
			return WindowData{}, err
		}
		d := data.WindowEnd().Sub(from)
		if d <= 0 {
			return WindowData{}, nil
		}
		c := data.Sums([]time.Duration{d})[0]
		return WindowData{Good: c.Good, Total: c.Total}, nil
	}
	return WindowData{}, nil
}

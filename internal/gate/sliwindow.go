package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/slo"
)

// SLIReader reads SLO windows from where each SLO's data lives: native
// data from the slo capability's minute buckets (table slo_buckets, read
// only, layout in migration 00200_slo.sql), Prometheus-backed SLOs through
// their slo.Source (counts only: the Prometheus source has no latency
// histogram, so those SLOs get no latency check).
type SLIReader struct {
	DB         *db.DB
	Prometheus slo.Source
}

// Window implements WindowReader.
func (r SLIReader) Window(ctx context.Context, def *slo.Definition, from, to time.Time) (WindowData, error) {
	switch def.Indicator.Source {
	case slo.SourceNative:
		return r.native(ctx, def, from, to)
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

// native sums the minute buckets in [from, to) (hours where the minutes are
// gone), with the latency histogram.
func (r SLIReader) native(ctx context.Context, def *slo.Definition, from, to time.Time) (WindowData, error) {
	var w WindowData
	for _, res := range []int{60, 3600} {
		rows, err := r.DB.Query(ctx, `SELECT COUNT(*), COALESCE(SUM(good),0), COALESCE(SUM(total),0),
COALESCE(SUM(l0),0), COALESCE(SUM(l1),0), COALESCE(SUM(l2),0), COALESCE(SUM(l3),0), COALESCE(SUM(l4),0), COALESCE(SUM(l5),0),
COALESCE(SUM(l6),0), COALESCE(SUM(l7),0), COALESCE(SUM(l8),0), COALESCE(SUM(l9),0), COALESCE(SUM(l10),0)
FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ?`, def.Name, res, db.Millis(from), db.Millis(to))
		if err != nil {
			return w, fmt.Errorf("read SLI buckets: %w", err)
		}
		var n, good, total int64
		var l [11]int64
		if rows.Next() {
			err = rows.Scan(&n, &good, &total, &l[0], &l[1], &l[2], &l[3], &l[4], &l[5], &l[6], &l[7], &l[8], &l[9], &l[10])
		}
		rows.Close()
		if err != nil {
			return w, fmt.Errorf("read SLI buckets: %w", err)
		}
		if n == 0 {
			continue
		}
		w.Good, w.Total, w.Latency = float64(good), float64(total), l
		for _, c := range l {
			if c > 0 {
				w.HasLatency = true
			}
		}
		return w, nil
	}
	return w, nil
}

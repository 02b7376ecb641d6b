package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
)

// scrape gathers c and returns each sample as `name{label="v",…}` → value.
func scrape(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := f.GetName()
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func expect(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	if !maps.Equal(got, want) {
		keys := slices.Sorted(maps.Keys(got))
		var b strings.Builder
		for _, k := range keys {
			b.WriteString("\n  " + k + " " + strings.TrimRight(strings.TrimRight(fmtFloat(got[k]), "0"), "."))
		}
		t.Errorf("%s: got%s\nwant %v", what, b.String(), want)
	}
}

// The queue health series read the jobs table at scrape time: an idle
// queue reports zeros; a job due 90 s ago and a failed one show as such;
// an unreadable database gives no series (no data), not zeros.
func TestHealthCollector(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		clk := clock.NewFake(t0)
		c := engine.HealthCollector{DB: d, Clock: clk, Log: slog.New(slog.DiscardHandler)}
		expect(t, "idle", scrape(t, c), map[string]float64{
			`tandem_engine_jobs{state="queued"}`: 0, `tandem_engine_jobs{state="running"}`: 0,
			`tandem_engine_jobs{state="done"}`: 0, `tandem_engine_jobs{state="failed"}`: 0,
			"tandem_engine_jobs_due": 0, "tandem_engine_oldest_due_job_age_seconds": 0,
		})

		e := engine.New(d, clk, nil, nil)
		e.Register("t.fail", func(context.Context, engine.Job) error { return engine.Permanent(errors.New("no")) })
		e.Register("t.ok", func(context.Context, engine.Job) error { return nil })
		enqueue(t, d, engine.NewJob{Kind: "t.fail", Key: "t/fail", RunAt: t0})
		enqueue(t, d, engine.NewJob{Kind: "t.ok", Key: "t/ok", RunAt: t0})
		if _, err := e.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		enqueue(t, d, engine.NewJob{Kind: "t.wait", Key: "t/due", RunAt: t0.Add(10 * time.Second)})
		enqueue(t, d, engine.NewJob{Kind: "t.wait", Key: "t/due2", RunAt: t0.Add(50 * time.Second)})
		enqueue(t, d, engine.NewJob{Kind: "t.wait", Key: "t/later", RunAt: t0.Add(time.Hour)})
		clk.Set(t0.Add(100 * time.Second))
		expect(t, "busy", scrape(t, c), map[string]float64{
			`tandem_engine_jobs{state="queued"}`: 3, `tandem_engine_jobs{state="running"}`: 0,
			`tandem_engine_jobs{state="done"}`: 1, `tandem_engine_jobs{state="failed"}`: 1,
			"tandem_engine_jobs_due": 2, "tandem_engine_oldest_due_job_age_seconds": 90,
		})

		d.Close()
		expect(t, "closed database", scrape(t, c), map[string]float64{})
	})
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

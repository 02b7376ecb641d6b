package chaos_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/chaos"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/slo"
)

var t0 = time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *chaos.Service
	store *slo.Store
	clk   *clock.Fake
	defs  []*slo.Definition
}

// newFixture serves a 99.9 % native SLO of checkout in staging and one of
// checkout in production, on d.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	defs := []*slo.Definition{
		{Name: "checkout-staging", Service: "checkout", Environment: "staging", Objective: 0.999, Method: slo.Occurrences,
			Window: slo.Window{Rolling: 28 * 24 * time.Hour}, Alerting: slo.DefaultPolicy(28 * 24 * time.Hour), Indicator: slo.Indicator{Source: slo.SourceNative}},
		{Name: "checkout-prod", Service: "checkout", Environment: "production", Objective: 0.999, Method: slo.Occurrences,
			Window: slo.Window{Rolling: 28 * 24 * time.Hour}, Alerting: slo.DefaultPolicy(28 * 24 * time.Hour), Indicator: slo.Indicator{Source: slo.SourceNative}},
	}
	st := slo.NewStore(d)
	sloSvc, err := slo.NewService(slo.Options{Store: st, Definitions: func() []*slo.Definition { return defs }, Registry: prometheus.NewRegistry(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{clk: clk, store: st, defs: defs, svc: &chaos.Service{Changes: change.NewStore(d), Store: chaos.NewStore(d), SLOs: sloSvc,
		Reader: gate.SLIReader{Store: st}, Clock: clk}}
}

// push adds per minute good and total events to the SLO over [from, to).
func (f *fixture) push(t *testing.T, name string, from, to time.Time, good, total int64) {
	t.Helper()
	var bs []slo.NativeBucket
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		bs = append(bs, slo.NativeBucket{Start: m, Good: good, Total: total})
	}
	if _, err := f.store.Ingest(context.Background(), name, "test", "", bs, 0, 0, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
}

// A run refuses to start unless the steady state holds; a started run is
// a chaos change in progress, judged when it finishes and stored on it.
func TestStartObserveFinish(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		in := chaos.StartInput{Service: "checkout", Environment: "staging", Name: "latency", Command: "tandem chaos proxy", Actor: "alice", Cooldown: "2m"}

		// No data: no_data is not a steady state.
		_, states, err := f.svc.Start(ctx, in)
		if tandem.ErrorCode(err) != tandem.EUnprocessable || !strings.Contains(err.Error(), "checkout-staging is no_data") || len(states) != 1 {
			t.Fatalf("no data: %v %+v", err, states)
		}
		if _, _, err := f.svc.Start(ctx, chaos.StartInput{Service: "checkout", Environment: "qa", Name: "x"}); tandem.ErrorCode(err) != tandem.EUnprocessable {
			t.Fatalf("environment without SLOs: %v", err)
		}
		for _, bad := range []chaos.StartInput{{Service: "checkout"}, {Name: "x"}, {Service: "checkout", Name: "x", Cooldown: "2 days"}, {Service: "checkout", Name: "x", DegradedShare: 1}} {
			if _, _, err := f.svc.Start(ctx, bad); tandem.ErrorCode(err) != tandem.EInvalid {
				t.Errorf("%+v: %v, want invalid", bad, err)
			}
		}
		evs, _ := f.svc.Changes.List(ctx, change.Filter{Kinds: []string{change.KindChaos}})
		if len(evs) != 0 {
			t.Fatalf("refused runs recorded changes: %+v", evs)
		}

		// Two hours of good traffic: healthy.
		f.push(t, "checkout-staging", t0.Add(-2*time.Hour), t0, 1000, 1000)
		run, states, err := f.svc.Start(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != chaos.StatusRunning || run.Verdict != nil || states[0].Status != slo.StatusHealthy || len(run.Settings.SLOs) != 1 {
			t.Fatalf("started %+v %+v", run, states)
		}
		ev, err := f.svc.Changes.Get(ctx, run.ID)
		if err != nil || ev.Kind != change.KindChaos || ev.Environment != "staging" || ev.Status != change.StatusInProgress || ev.Actor != "alice" || ev.Version != "latency" {
			t.Fatalf("change %+v %v", ev, err)
		}
		// Five minutes of a fault: 30 bad of 1000 a minute, burn 30.
		f.push(t, "checkout-staging", t0, t0.Add(5*time.Minute), 970, 1000)
		f.clk.Set(t0.Add(5 * time.Minute))
		o, err := f.svc.Observe(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Abort || o.Costs[0].BurnRate == nil || *o.Costs[0].BurnRate != 30 {
			t.Fatalf("observation %+v", o)
		}
		// With an abort limit of 10 the same observation aborts.
		run2, _ := f.svc.Store.Get(ctx, run.ID)
		run2.Settings.AbortBurnRate = 10
		if err := f.svc.Store.Put(ctx, run2, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if o, _ := f.svc.Observe(ctx, run.ID); !o.Abort || !strings.Contains(o.Reason, "burns its error budget 30x") {
			t.Fatalf("abort observation %+v", o)
		}
		// Cool-down of 2 good minutes.
		f.push(t, "checkout-staging", t0.Add(5*time.Minute), t0.Add(7*time.Minute), 1000, 1000)
		f.clk.Set(t0.Add(7 * time.Minute))
		done, err := f.svc.Finish(ctx, run.ID, chaos.FinishInput{FaultEnded: t0.Add(5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		// 150 bad of 7000 over 7 minutes: burn 21.43 > 13.44: broken.
		c := done.Costs[0]
		if *done.Verdict != chaos.Broken || c.BurnRate == nil || *c.BurnRate != 21.428571 || *c.Total != 7000 {
			t.Fatalf("finished %+v costs %+v", done, c)
		}
		ev, _ = f.svc.Changes.Get(ctx, run.ID)
		if ev.Status != change.StatusSuccess || !ev.FinishedAt.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("change after finish %+v", ev)
		}
		if _, err := f.svc.Finish(ctx, run.ID, chaos.FinishInput{}); tandem.ErrorCode(err) != tandem.EConflict {
			t.Fatalf("finishing twice: %v", err)
		}
		runs, err := f.svc.List(ctx, chaos.Filter{Service: "checkout", Environment: "staging"})
		if err != nil || len(runs) != 1 || runs[0].ID != run.ID {
			t.Fatalf("list %+v %v", runs, err)
		}
		if runs, _ := f.svc.List(ctx, chaos.Filter{Environment: "production"}); len(runs) != 0 {
			t.Fatalf("production list %+v", runs)
		}
		v, err := f.svc.Store.Verdicts(ctx, []int64{run.ID, 999})
		if err != nil || v[run.ID] != chaos.Broken || len(v) != 1 {
			t.Fatalf("verdicts %v %v", v, err)
		}
	})
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Reports of LitmusChaos, Chaos Mesh and Gremlin, written from their
// published formats, import as chaos changes with the tool's verdict and
// tandem's SLO verdict beside it.
func TestImportFixtures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.clk.Set(time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC))
		day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		// Staging: good all day but 11:00–11:05, when 50 of 1000 requests
		// a minute fail (burn 50).
		f.push(t, "checkout-staging", day.Add(9*time.Hour), day.Add(11*time.Hour), 1000, 1000)
		f.push(t, "checkout-staging", day.Add(11*time.Hour), day.Add(11*time.Hour+5*time.Minute), 950, 1000)
		f.push(t, "checkout-staging", day.Add(11*time.Hour+5*time.Minute), day.Add(16*time.Hour), 1000, 1000)
		known := func(s string) bool { return s == "checkout" }
		type want struct{ name, env, tool, verdict string }
		check := func(file, format, service, env string, wants []want) []chaos.Run {
			t.Helper()
			reps, err := chaos.Parse(format, readFixture(t, file))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			runs, err := f.svc.Import(ctx, reps, service, env, "token:ci", known)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(runs) != len(wants) {
				t.Fatalf("%s: %d runs %+v, want %d", file, len(runs), runs, len(wants))
			}
			for i, w := range wants {
				r := runs[i]
				v := r.Status
				if r.Verdict != nil {
					v = *r.Verdict
				}
				if r.Name != w.name || r.Environment != w.env || r.ToolVerdict != w.tool || v != w.verdict {
					t.Errorf("%s[%d]: %s in %s, tool %s, SLO %s (%s); want %+v", file, i, r.Name, r.Environment, r.ToolVerdict, v, r.Reason, w)
				}
			}
			return runs
		}
		// ChaosResults: annotated staging; the pod-delete at 10:00 passed
		// and held, the network latency at 11:00 failed its probe and broke
		// the SLO (burn 50 from 11:00 to 11:04:10).
		check("litmus-chaosresult-list.json", "", "", "", []want{
			{"checkout-chaos/pod-delete", "staging", "pass", chaos.Held},
			{"checkout-chaos/pod-network-latency", "staging", "fail", chaos.Broken},
		})
		// The engine names the service but no environment: --env staging.
		check("litmus-chaosengine.json", chaos.FormatLitmus, "", "staging", []want{
			{"checkout-chaos/pod-delete", "staging", "pass", chaos.Held},
			{"checkout-chaos/pod-cpu-hog", "staging", "stopped", chaos.Held},
		})
		check("chaosmesh-events.json", chaos.FormatChaosMesh, "checkout", "staging", []want{
			{"chaos-mesh/checkout-pod-kill/checkout-pod-kill-7x9kq", "staging", "spawned", chaos.Held},
			{"chaos-mesh/checkout-latency", "staging", "accomplished", chaos.Held},
		})
		// Gremlin: running, then halted; the same attack is one change.
		running := check("gremlin-running.json", "", "checkout", "staging", []want{{"gremlin Latency", "staging", "running", chaos.StatusRunning}})
		halted := check("gremlin-finished-halted.json", "", "checkout", "staging", []want{{"gremlin Latency", "staging", "halted", chaos.Held}})
		if running[0].ID != halted[0].ID {
			t.Errorf("the finished attack is a new change (%d, %d)", running[0].ID, halted[0].ID)
		}
		if !halted[0].StartedAt.Equal(day.Add(15*time.Hour)) || !halted[0].FinishedAt.Equal(day.Add(15*time.Hour+4*time.Minute)) {
			t.Errorf("gremlin times %s %v", halted[0].StartedAt, halted[0].FinishedAt)
		}
		// No SLO in production: the SLO verdict says so, the tool's stays.
		check("gremlin-finished-successful.json", "", "checkout", "qa", []want{{"gremlin CPU", "qa", "successful", chaos.Inconclusive}})

		// Importing again changes nothing.
		reps, _ := chaos.Parse("", readFixture(t, "litmus-chaosresult-list.json"))
		before, _ := f.svc.List(ctx, chaos.Filter{Limit: 1000})
		if _, err := f.svc.Import(ctx, reps, "", "", "", known); err != nil {
			t.Fatal(err)
		}
		after, _ := f.svc.List(ctx, chaos.Filter{Limit: 1000})
		if len(before) != len(after) {
			t.Errorf("re-import: %d runs, then %d", len(before), len(after))
		}
		// A report without a service, or of an unknown one, records nothing.
		reps, _ = chaos.Parse("", readFixture(t, "gremlin-running.json"))
		if _, err := f.svc.Import(ctx, reps, "", "", "", known); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("no service: %v", err)
		}
		if _, err := f.svc.Import(ctx, reps, "chekout", "", "", known); tandem.ErrorCode(err) != tandem.EInvalid {
			t.Errorf("unknown service: %v", err)
		}
	})
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ format, doc, field string }{
		{"", `{"kind":"Deployment"}`, "format"},
		{"", `not json`, "format"},
		{"litmus", `{"kind":"ChaosResult","metadata":{"uid":"u","creationTimestamp":"2026-11-30T10:00:00Z"},"spec":{"experiment":"x"},"status":{"experimentStatus":{"phase":"Done","verdict":"Pass"}}}`, "status.experimentStatus.phase"},
		{"litmus", `{"kind":"ChaosResult","metadata":{"uid":"u","creationTimestamp":"yesterday"},"spec":{"experiment":"x"}}`, "metadata.creationTimestamp"},
		{"litmus", `{"kind":"ChaosEngine","metadata":{"uid":"u","creationTimestamp":"2026-11-30T10:00:00Z"},"status":{"experiments":[]}}`, "status.experiments"},
		{"chaos-mesh", `{"kind":"List","items":[{"kind":"Event","involvedObject":{"apiVersion":"v1","kind":"Pod","name":"p","uid":"u"}}]}`, "items"},
		{"gremlin", `{"attackId":"a","attackStatus":"Exploded","time":"2026-11-30T10:00:00Z"}`, "attackStatus"},
		{"gremlin", `{"attackId":"a","attackStatus":"Running"}`, "time"},
		{"jenkins", `{}`, "format"},
	} {
		_, err := chaos.Parse(c.format, []byte(c.doc))
		var te *tandem.Error
		if err == nil || !asErr(err, &te) || te.Field != c.field {
			t.Errorf("%s %s: %v, want an error on %s", c.format, c.doc, err, c.field)
		}
	}
}

func asErr(err error, te **tandem.Error) bool {
	e, ok := err.(*tandem.Error)
	*te = e
	return ok
}

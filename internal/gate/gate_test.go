package gate

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/slo"
)

func f64(v float64) *float64 { return &v }

func TestEvaluateSLO(t *testing.T) {
	p95 := 620.0
	healthy := slo.Status{Name: "api-availability", Service: "api", Status: slo.StatusHealthy,
		ErrorBudget: slo.Budget{Remaining: f64(0.42)}, BurnRates: map[string]*float64{"1h": f64(0.8), "5m": f64(3)}, P95Ms: &p95}
	exhausted := slo.Status{Name: "api-latency", Service: "api", Status: slo.StatusExhausted,
		ErrorBudget: slo.Budget{Remaining: f64(-0.1)}, BurnRates: map[string]*float64{"1h": f64(4)},
		Freeze: slo.Freeze{Active: true, Reason: "SLO api-latency has -10% of its error budget left"}}
	noData := slo.Status{Name: "api-new", Service: "api", Status: slo.StatusNoData, Reason: slo.ReasonNoEvents, BurnRates: map[string]*float64{"1h": nil}}
	cases := []struct {
		name     string
		statuses []slo.Status
		t        SLOThresholds
		verdicts []string
		combined string
	}{
		{"budget above 10% passes", []slo.Status{healthy}, SLOThresholds{MinBudgetRemaining: f64(0.1)}, []string{Pass}, Pass},
		{"budget below 50% fails", []slo.Status{healthy}, SLOThresholds{MinBudgetRemaining: f64(0.5)}, []string{Fail}, Fail},
		{"burn 0.8 <= 2 passes, 4 > 2 fails", []slo.Status{healthy, exhausted}, SLOThresholds{MaxBurnRate: f64(2)}, []string{Pass, Fail}, Fail},
		{"p95 620 > 500 fails", []slo.Status{healthy}, SLOThresholds{P95LatencyMs: f64(500)}, []string{Fail}, Fail},
		{"no latency data is inconclusive", []slo.Status{exhausted}, SLOThresholds{P95LatencyMs: f64(500)}, []string{Inconclusive}, Inconclusive},
		{"freeze fails", []slo.Status{healthy, exhausted}, SLOThresholds{RespectFreeze: true}, []string{Fail}, Fail},
		{"freeze ignored unless asked", []slo.Status{healthy, exhausted}, SLOThresholds{MinBudgetRemaining: f64(-1)}, []string{Pass, Pass}, Pass},
		{"no data is inconclusive", []slo.Status{noData}, SLOThresholds{MinBudgetRemaining: f64(0)}, []string{Inconclusive}, Inconclusive},
		{"no SLO is inconclusive", nil, SLOThresholds{MinBudgetRemaining: f64(0)}, []string{Inconclusive}, Inconclusive},
		{"other burn window", []slo.Status{healthy}, SLOThresholds{MaxBurnRate: f64(2), BurnWindow: "5m"}, []string{Fail}, Fail},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks := EvaluateSLO("api", c.statuses, c.t)
			var got []string
			for _, ch := range checks {
				got = append(got, ch.Verdict)
			}
			if strings.Join(got, ",") != strings.Join(c.verdicts, ",") || Combine(checks) != c.combined {
				t.Errorf("verdicts %v (%s), want %v (%s): %+v", got, Combine(checks), c.verdicts, c.combined, checks)
			}
		})
	}
	line := FormatCheck(EvaluateSLO("api", []slo.Status{healthy}, SLOThresholds{MinBudgetRemaining: f64(0.5)})[0])
	if line != "FAIL           budget_remaining api-availability = 42% (want >= 50%): 42% of the error budget left, the gate wants at least 50%" {
		t.Errorf("line %q", line)
	}
}

func TestRunCommand(t *testing.T) {
	var out bytes.Buffer
	r := RunCommand(context.Background(), RunOptions{Command: []string{"sh", "-c", "echo hello; echo oops >&2; exit 3"}, Stdout: &out, Stderr: &out})
	if r.ExitCode != 3 || r.Succeeded() || r.Exceeded || !strings.Contains(out.String(), "hello\noops") {
		t.Errorf("result %+v output %q", r, out.String())
	}
	r = RunCommand(context.Background(), RunOptions{Command: []string{"no-such-program-tandem"}})
	if r.StartError == "" || r.Succeeded() {
		t.Errorf("missing program: %+v", r)
	}
	exceeded := make(chan struct{})
	r = RunCommand(context.Background(), RunOptions{Command: []string{"sh", "-c", "sleep 30"}, MaxDuration: 100 * time.Millisecond,
		KillOnTimeout: true, KillGrace: time.Second, OnExceeded: func() { close(exceeded) }})
	<-exceeded
	if !r.Exceeded || !r.Killed || r.Succeeded() || r.Duration > 10*time.Second {
		t.Errorf("killed run: %+v", r)
	}
	r = RunCommand(context.Background(), RunOptions{Command: []string{"sh", "-c", "sleep 0.3"}, MaxDuration: 50 * time.Millisecond})
	if !r.Exceeded || r.Killed || !r.Succeeded() {
		t.Errorf("slow run without kill: %+v", r)
	}
	if m := ExceededMessage(12340*time.Millisecond, 10*time.Second); m != "Migration exceeded latency threshold (12.3 s > 10 s)" {
		t.Errorf("message %q", m)
	}
}

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		st := NewStore(d)
		ctx := context.Background()
		t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		a, err := st.Record(ctx, Result{Kind: KindSLO, Service: "api", Verdict: Pass, Checks: []Check{{Name: "x", Verdict: Pass}}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.Record(ctx, Result{Kind: KindMigration, Service: "db", Verdict: Fail, Message: "slow", DurationMs: 1200}, t0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		all, err := st.List(ctx, Filter{})
		if err != nil || len(all) != 2 || all[0].ID != b.ID || all[1].Checks[0].Name != "x" || !all[1].CreatedAt.Equal(t0) {
			t.Fatalf("list %+v %v", all, err)
		}
		fails, _ := st.List(ctx, Filter{Verdict: Fail})
		api, _ := st.List(ctx, Filter{Service: "api", Since: t0})
		late, _ := st.List(ctx, Filter{Since: t0.Add(time.Second)})
		if len(fails) != 1 || len(api) != 1 || len(late) != 1 || late[0].ID != b.ID {
			t.Errorf("filters: %d %d %d", len(fails), len(api), len(late))
		}
		got, err := st.Get(ctx, a.ID)
		if err != nil || got.Service != "api" {
			t.Errorf("get %+v %v", got, err)
		}
		if _, err := st.Get(ctx, 999); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Errorf("missing: %v", err)
		}
		for _, bad := range []Result{{Kind: "nope", Verdict: Pass}, {Kind: KindSLO, Verdict: "maybe"},
			{Kind: KindSLO, Verdict: Pass, Checks: []Check{{Name: "", Verdict: Pass}}}} {
			if _, err := st.Record(ctx, bad, t0); tandem.ErrorCode(err) != tandem.EInvalid {
				t.Errorf("%+v: %v", bad, err)
			}
		}
	})
}

package gate

import (
	"bytes"
	"context"
	"errors"
	"strconv"
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
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	healthy := slo.Status{Name: "api-availability", Service: "api", Status: slo.StatusHealthy, Objective: 0.999, Window: "28d",
		ErrorBudget: slo.Budget{Remaining: f64(0.42)}, BurnRates: map[string]*float64{"1h": f64(0.8), "5m": f64(3)}, EvaluatedAt: t0}
	exhausted := slo.Status{Name: "api-latency", Service: "api", Status: slo.StatusExhausted, Objective: 0.99, Window: "28d",
		ErrorBudget: slo.Budget{Remaining: f64(-0.1)}, BurnRates: map[string]*float64{"1h": f64(4)}, EvaluatedAt: t0,
		Freeze: slo.Freeze{Active: true, Reason: "SLO api-latency has -10% of its error budget left"}}
	noData := slo.Status{Name: "api-new", Service: "api", Status: slo.StatusNoData, Reason: slo.ReasonNoEvents, Window: "7d", BurnRates: map[string]*float64{"1h": nil}, EvaluatedAt: t0}
	unread := slo.Status{Name: "api-prom", Service: "api", Status: slo.StatusNoData, Reason: "source unreadable: reading the SLI failed: connection refused", Window: "28d", Error: "reading the SLI failed: connection refused", EvaluatedAt: t0}
	recent := func(good, total float64, p95 *float64) *Span {
		return &Span{From: t0.Add(-15 * time.Minute), To: t0, Good: good, Total: total, P95Ms: p95, NoLatency: "no latency observations over the 15m window"}
	}
	in := func(sts ...slo.Status) []SLOInput {
		out := make([]SLOInput, len(sts))
		for i, st := range sts {
			out[i] = SLOInput{Status: st}
		}
		return out
	}
	with := func(st slo.Status, r, b *Span) []SLOInput { return []SLOInput{{Status: st, Recent: r, Burn: b}} }
	cases := []struct {
		name     string
		in       []SLOInput
		t        SLOThresholds
		verdicts []string
		combined string
	}{
		{"budget above 10% passes", in(healthy), SLOThresholds{MinBudgetRemaining: f64(0.1)}, []string{Pass}, Pass},
		{"budget below 50% fails", in(healthy), SLOThresholds{MinBudgetRemaining: f64(0.5)}, []string{Fail}, Fail},
		{"burn 0.8 <= 2 passes, 4 > 2 fails", in(healthy, exhausted), SLOThresholds{MaxBurnRate: f64(2)}, []string{Pass, Fail}, Fail},
		{"other status burn window", in(healthy), SLOThresholds{MaxBurnRate: f64(2), BurnWindow: 5 * time.Minute}, []string{Fail}, Fail},
		// 45m is not a status window: (10 bad / 1000) / (1 - 0.999) = 10 > 2.
		{"burn over a span", with(healthy, nil, recent(990, 1000, nil)), SLOThresholds{MaxBurnRate: f64(2), BurnWindow: 45 * time.Minute}, []string{Fail}, Fail},
		{"burn over an idle span is no data", with(healthy, nil, recent(0, 0, nil)), SLOThresholds{MaxBurnRate: f64(2), BurnWindow: 45 * time.Minute}, []string{Inconclusive}, Inconclusive},
		// The p95 is the recent window's, whatever the status says.
		{"recent p95 700 > 500 fails", with(healthy, recent(100, 100, f64(700)), nil), SLOThresholds{P95LatencyMs: f64(500)}, []string{Fail}, Fail},
		{"recent p95 300 <= 500 passes", with(healthy, recent(100, 100, f64(300)), nil), SLOThresholds{P95LatencyMs: f64(500)}, []string{Pass}, Pass},
		{"no latency in the recent window is no data", with(healthy, recent(100, 100, nil), nil), SLOThresholds{P95LatencyMs: f64(500)}, []string{Inconclusive}, Inconclusive},
		{"unreadable recent window", with(healthy, &Span{Error: "connection refused"}, nil), SLOThresholds{P95LatencyMs: f64(500)}, []string{Inconclusive}, Inconclusive},
		{"freeze fails", in(healthy, exhausted), SLOThresholds{RespectFreeze: true}, []string{Fail}, Fail},
		{"freeze with an SLO without data is unknown", in(healthy, noData), SLOThresholds{RespectFreeze: true}, []string{Inconclusive}, Inconclusive},
		{"a known freeze wins over an unknown one", in(noData, exhausted), SLOThresholds{RespectFreeze: true}, []string{Fail}, Fail},
		{"freeze ignored unless asked", in(healthy, exhausted), SLOThresholds{MinBudgetRemaining: f64(-1)}, []string{Pass, Pass}, Pass},
		{"no data is inconclusive", in(noData), SLOThresholds{MinBudgetRemaining: f64(0)}, []string{Inconclusive}, Inconclusive},
		{"no data burn is inconclusive", in(noData), SLOThresholds{MaxBurnRate: f64(2)}, []string{Inconclusive}, Inconclusive},
		{"unreadable source is inconclusive", in(unread), SLOThresholds{MinBudgetRemaining: f64(0)}, []string{Inconclusive}, Inconclusive},
		{"no SLO is inconclusive", nil, SLOThresholds{MinBudgetRemaining: f64(0)}, []string{Inconclusive}, Inconclusive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks := EvaluateSLO("api", c.in, c.t)
			var got []string
			for _, ch := range checks {
				got = append(got, ch.Verdict)
				// No data is never a number.
				if (ch.Verdict == Inconclusive) != (ch.Value == nil) {
					t.Errorf("%s: verdict %s with value %v", ch.Name, ch.Verdict, ch.Value)
				}
				if ch.Verdict == Inconclusive && ch.Detail == "" {
					t.Errorf("%s: inconclusive without a reason", ch.Name)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.verdicts, ",") || Combine(checks) != c.combined {
				t.Errorf("verdicts %v (%s), want %v (%s): %+v", got, Combine(checks), c.verdicts, c.combined, checks)
			}
		})
	}
	lines := []struct {
		in   []SLOInput
		t    SLOThresholds
		want string
	}{
		{in(healthy), SLOThresholds{MinBudgetRemaining: f64(0.5)},
			"FAIL           budget_remaining api-availability = 42% over 28d (want >= 50%): 42% of the error budget left, the gate wants at least 50%"},
		{with(healthy, recent(100, 100, f64(975)), nil), SLOThresholds{P95LatencyMs: f64(500)},
			"FAIL           p95_latency_ms api-availability = 975ms over 15m (want <= 500ms)"},
		{with(healthy, recent(0, 0, nil), nil), SLOThresholds{P95LatencyMs: f64(500)},
			"INCONCLUSIVE   p95_latency_ms api-availability = no data over 15m (want <= 500ms): no latency observations over the 15m window"},
		{in(healthy), SLOThresholds{MaxBurnRate: f64(2)},
			"PASS           burn_rate_1h api-availability = 0.8 over 1h (want <= 2)"},
	}
	for _, l := range lines {
		if got := FormatCheck(EvaluateSLO("api", l.in, l.t)[0]); got != l.want {
			t.Errorf("line\n%q\nwant\n%q", got, l.want)
		}
	}
}

// TestResolveSLOs: every name a gate is given must resolve, and all that do
// not are named at once, with close names.
func TestResolveSLOs(t *testing.T) {
	defs := []*slo.Definition{
		{Name: "checkout-api-availability", Service: "checkout", Indicator: slo.Indicator{Source: slo.SourceNative}},
		{Name: "checkout-api-latency", Service: "checkout", Indicator: slo.Indicator{Source: slo.SourcePrometheus}},
		{Name: "search-query-failures", Service: "search-api", Indicator: slo.Indicator{Source: slo.SourceNative}},
		{Name: "postgres-migrations", Service: "postgres-main", Indicator: slo.Indicator{Source: slo.SourceChanges}},
	}
	services := []string{"checkout", "search-api", "postgres-main", "ci-runners"}
	cases := []struct {
		service  string
		names    []string
		requests bool
		want     string // selected names, or the error message
	}{
		{"checkout", nil, false, "checkout-api-availability,checkout-api-latency"},
		{"checkout", []string{"checkout-api-latency", "checkout-api-latency"}, false, "checkout-api-latency"},
		{"checkout", []string{"checkout-api-availabilty"}, false,
			"unknown SLO checkout-api-availabilty (did you mean checkout-api-availability?)"},
		{"checkout", []string{"checkout-api-availabilty", "checkout-api-latency", "checkout-api-latenc"}, false,
			"unknown SLO checkout-api-availabilty (did you mean checkout-api-availability?); unknown SLO checkout-api-latenc (did you mean checkout-api-latency?)"},
		{"chekout", nil, false, "unknown service chekout (did you mean checkout?)"},
		{"chekout", []string{"checkout-api-availabilty"}, false,
			"unknown service chekout (did you mean checkout?); unknown SLO checkout-api-availabilty (did you mean checkout-api-availability?)"},
		{"checkout", []string{"search-query-failures"}, false, "SLO search-query-failures belongs to service search-api, not checkout"},
		{"ci-runners", nil, false, "service ci-runners has no SLO"},
		{"postgres-main", nil, false, "postgres-migrations"},
		{"postgres-main", nil, true, "service postgres-main has no SLO measured from requests (latency or errors); its SLOs count change events: postgres-migrations"},
		{"postgres-main", []string{"postgres-migrations"}, true, "SLO postgres-migrations counts change events, not requests"},
	}
	for _, c := range cases {
		got, err := ResolveSLOs(c.service, c.names, defs, services, c.requests)
		var s string
		if err != nil {
			if tandem.ErrorCode(err) != tandem.EUnprocessable {
				t.Errorf("%s %v: code %s", c.service, c.names, tandem.ErrorCode(err))
			}
			s = tandem.ErrorMessage(err)
		} else {
			var names []string
			for _, d := range got {
				names = append(names, d.Name)
			}
			s = strings.Join(names, ",")
		}
		if s != c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.service, c.names, s, c.want)
		}
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

// The SLO gate checks one environment's SLOs: production by default, and a
// named SLO of another environment is refused rather than checked.
func TestResolveSLOsPerEnvironment(t *testing.T) {
	defs := []*slo.Definition{
		{Name: "api", Service: "checkout", Indicator: slo.Indicator{Source: slo.SourceNative}},
		{Name: "api-staging", Service: "checkout", Environment: "staging", Indicator: slo.Indicator{Source: slo.SourceNative}},
	}
	services := []string{"checkout"}
	for env, want := range map[string]string{"production": "api", "staging": "api-staging", "": "api,api-staging"} {
		got, err := ResolveSLOsIn("checkout", env, nil, defs, services, false)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range got {
			names = append(names, d.Name)
		}
		if s := strings.Join(names, ","); s != want {
			t.Errorf("environment %q: %s, want %s", env, s, want)
		}
	}
	_, err := ResolveSLOsIn("checkout", "production", []string{"api-staging"}, defs, services, false)
	if tandem.ErrorMessage(err) != "SLO api-staging is measured in staging, not production" {
		t.Errorf("named SLO of another environment: %v", err)
	}
	if _, err := ResolveSLOsIn("checkout", "qa", nil, defs, services, false); tandem.ErrorMessage(err) != "service checkout has no SLO in qa" {
		t.Errorf("environment without SLOs: %v", err)
	}
}

// A failing result and what its hook writes (its notification jobs) commit
// together: a hook error stores neither, and a passing result runs no hook.
func TestRecordThenOneTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		st := NewStore(d)
		ctx := context.Background()
		t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
		calls := 0
		enqueue := func(ctx context.Context, tx *db.Tx, r Result) error {
			calls++
			_, err := tx.Exec(ctx, `INSERT INTO jobs (kind, key, payload, state, run_at, max_attempts, created_at, updated_at) VALUES ('gate.notify', ?, '{}', 'queued', 0, 1, 0, 0)`,
				"gate.notify:"+strconv.FormatInt(r.ID, 10))
			return err
		}
		if _, err := st.RecordThen(ctx, Result{Kind: KindSLO, Service: "api", Verdict: Pass}, t0, enqueue); err != nil || calls != 0 {
			t.Fatalf("pass: %v, %d hook calls", err, calls)
		}
		r, err := st.RecordThen(ctx, Result{Kind: KindSLO, Service: "api", Verdict: Fail}, t0, enqueue)
		if err != nil || calls != 1 {
			t.Fatalf("fail: %v, %d hook calls", err, calls)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE key = ?`, "gate.notify:"+strconv.FormatInt(r.ID, 10)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("notification jobs of result %d: %d %v", r.ID, n, err)
		}
		_, err = st.RecordThen(ctx, Result{Kind: KindSLO, Service: "api", Verdict: Fail, Message: "lost"}, t0, func(context.Context, *db.Tx, Result) error {
			return errors.New("queue unavailable")
		})
		if err == nil {
			t.Fatal("a hook error was not returned")
		}
		all, err := st.List(ctx, Filter{})
		if err != nil || len(all) != 2 {
			t.Fatalf("results after a failed hook: %+v %v", all, err)
		}
	})
}

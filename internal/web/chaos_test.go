package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/chaos"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/gate"
	"github.com/tandemhq/tandem/internal/slo"
)

// The service page has a Chaos section: each experiment with its verdict,
// its cost per SLO and the SLI over its window; the chaos change in the
// changes table carries its verdict.
func TestServicePageChaos(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(testNow.Add(-2 * time.Hour))
		def := &slo.Definition{Name: "checkout-staging-latency", Service: "checkout", Environment: "staging", Objective: 0.999, Method: slo.Occurrences,
			Window: slo.Window{Rolling: 28 * 24 * time.Hour}, Alerting: slo.DefaultPolicy(28 * 24 * time.Hour), Indicator: slo.Indicator{Source: slo.SourceNative}}
		st := slo.NewStore(d)
		sloSvc, err := slo.NewService(slo.Options{Store: st, Definitions: func() []*slo.Definition { return []*slo.Definition{def} }, Registry: prometheus.NewRegistry(), Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		push := func(from, to time.Time, good, total int64) {
			var bs []slo.NativeBucket
			for m := from; m.Before(to); m = m.Add(time.Minute) {
				bs = append(bs, slo.NativeBucket{Start: m, Good: good, Total: total})
			}
			if _, err := st.Ingest(ctx, def.Name, "t", "", bs, 0, 0, clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		start := clk.Now()
		push(start.Add(-time.Hour), start, 1000, 1000)
		changes := change.NewStore(d)
		cs := &chaos.Service{Changes: changes, Store: chaos.NewStore(d), SLOs: sloSvc, Reader: gate.SLIReader{Store: st}, Clock: clk}
		run, _, err := cs.Start(ctx, chaos.StartInput{Service: "checkout", Environment: "staging", Name: "payments-latency", Actor: "alice", Cooldown: "2m"})
		if err != nil {
			t.Fatal(err)
		}
		push(start, start.Add(5*time.Minute), 900, 1000)
		clk.Set(start.Add(5 * time.Minute))
		if _, err := cs.Finish(ctx, run.ID, chaos.FinishInput{}); err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, d, Deps{PublicRead: true, Changes: changes, Chaos: cs})
		res, body := get(t, http.DefaultClient, s.URL+"/services/checkout?range=24h")
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, body)
		}
		for _, want := range []string{
			`<h2 id="chaos">Chaos</h2>`, `id="chaos-` + itoa(run.ID) + `"`, "payments-latency", "st-broken",
			"checkout-staging-latency", "page condition", "SLI per minute over chaos run payments-latency", // the chart's title
			`<a href="#chaos-` + itoa(run.ID) + `">chaos verdict</a>`, // beside the change
		} {
			if !strings.Contains(body, want) {
				t.Errorf("service page lacks %q", want)
			}
		}
		// Without the capability the section is absent, not empty.
		s = newTestServer(t, d, Deps{PublicRead: true, Changes: changes})
		if _, body := get(t, http.DefaultClient, s.URL+"/services/checkout?range=24h"); strings.Contains(body, `id="chaos"`) {
			t.Error("chaos section without the chaos capability")
		}
	})
}

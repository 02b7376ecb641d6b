package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/slo"
)

// The environment control: env=staging shows the staging SLO with the
// staging deploy on its charts, and neither the production SLO nor the
// production deploy; production is the default; the navigation and the
// overview's service links keep the environment.
func TestEnvironmentKeptAndShown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		native := func(name, env string) *slo.Definition {
			return &slo.Definition{Name: name, Service: "checkout", Environment: env, Objective: 0.999, Method: slo.Occurrences,
				Window: slo.Window{Rolling: 28 * 24 * time.Hour}, Alerting: slo.DefaultPolicy(28 * 24 * time.Hour), Indicator: slo.Indicator{Source: slo.SourceNative}}
		}
		defs := []*slo.Definition{native("checkout-prod-availability", ""), native("checkout-staging-availability", "staging")}
		st := slo.NewStore(d)
		sloSvc, err := slo.NewService(slo.Options{Store: st, Definitions: func() []*slo.Definition { return defs }, Registry: prometheus.NewRegistry(), Clock: clock.NewFake(testNow)})
		if err != nil {
			t.Fatal(err)
		}
		for _, def := range defs {
			var bs []slo.NativeBucket
			for m := testNow.Add(-3 * time.Hour); m.Before(testNow); m = m.Add(time.Minute) {
				bs = append(bs, slo.NativeBucket{Start: m, Good: 100, Total: 100})
			}
			if _, err := st.Ingest(ctx, def.Name, "t", "", bs, 0, 0, testNow); err != nil {
				t.Fatal(err)
			}
		}
		changes := change.NewStore(d)
		evs, err := changes.Record(ctx, []change.Event{
			{Service: "checkout", Kind: change.KindDeploy, Version: "v1.4.2", FinishedAt: testNow.Add(-2 * time.Hour)},
			{Service: "checkout", Kind: change.KindDeploy, Version: "v1.5.0-rc1", Environment: "staging", FinishedAt: testNow.Add(-90 * time.Minute)},
		}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		prodMarker, stagingMarker := `href="#change-`+itoa(evs[0].ID)+`"`, `href="#change-`+itoa(evs[1].ID)+`"`
		s := newTestServer(t, d, Deps{PublicRead: true, Changes: changes, SLOs: sloSvc})

		check := func(path string, want, not []string) {
			t.Helper()
			res, body := get(t, http.DefaultClient, s.URL+path)
			if res.StatusCode != 200 {
				t.Fatalf("%s: status %d\n%s", path, res.StatusCode, body)
			}
			for _, w := range want {
				if !strings.Contains(body, w) {
					t.Errorf("%s lacks %q", path, w)
				}
			}
			for _, n := range not {
				if strings.Contains(body, n) {
					t.Errorf("%s shows %q", path, n)
				}
			}
		}
		check("/services/checkout?range=24h&env=staging",
			[]string{`id="slo-checkout-staging-availability"`, stagingMarker,
				`href="/delivery?env=staging&amp;range=24h"`, // the navigation keeps both
				`>production</a>`, // the control offers production
				`href="/services/checkout?env=staging&amp;range=7d"`, // range links keep the environment
				`<input type="hidden" name="env" value="staging">`},  // so does the custom range form
			// Hours before the SLO's first events have no budget: they
			// do not make the chart's axis NaN.
			[]string{`id="slo-checkout-prod-availability"`, prodMarker, "NaN"})
		check("/services/checkout?range=24h",
			[]string{`id="slo-checkout-prod-availability"`, prodMarker, `href="/services/checkout?env=staging&amp;range=24h"`},
			[]string{`id="slo-checkout-staging-availability"`, stagingMarker, "env=production"})
		// The overview shows the environment's SLOs and its service links
		// keep the environment.
		check("/?env=staging", []string{"checkout-staging-availability", `href="/services/checkout?env=staging"`},
			[]string{"checkout-prod-availability"})
		check("/", []string{"checkout-prod-availability"}, []string{"checkout-staging-availability"})
		if res, _ := get(t, http.DefaultClient, s.URL+"/services/checkout?env=stag%20ing"); res.StatusCode != 400 {
			t.Errorf("a bad environment: %d", res.StatusCode)
		}
	})
}

package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/incident"
)

// Suspects and related changes come only from the incident's environment:
// a staging chaos run is never a suspect of a production incident, and a
// staging incident (one an SLO of staging raises) suspects staging changes.
func TestSuspectsOnlyFromIncidentEnvironment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := newHarness(t, d, 0)
		ctx := context.Background()
		changes := change.NewStore(d)
		h.m.Changes = changes
		start := t0.Add(-10 * time.Minute)
		record := func(env, kind, version string, at time.Time) int64 {
			t.Helper()
			evs, err := changes.Record(ctx, []change.Event{{Service: "checkout", Environment: env, Kind: kind, Version: version,
				FinishedAt: at, Source: "test", ExternalID: env + "-" + version}}, h.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			return evs[0].ID
		}
		prodDeploy := record("production", change.KindDeploy, "v41", start.Add(-30*time.Minute))
		chaos := record("staging", change.KindChaos, "latency", start.Add(-5*time.Minute))
		// Dependencies count in the incident's environment too.
		deps, err := changes.Record(ctx, []change.Event{{Service: "payments-db", Environment: "staging", Kind: change.KindConfig,
			Version: "c9", FinishedAt: start.Add(-time.Minute), Source: "test", ExternalID: "dep-c9"}}, h.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids := func(s []incident.Suspect) map[int64]bool {
			m := map[int64]bool{}
			for _, x := range s {
				m[x.ChangeID] = true
			}
			return m
		}

		prod, err := h.m.Open(ctx, incident.OpenInput{Title: "checkout errors", Services: []string{"checkout"}, Severity: "sev2", StartedAt: start, NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(prod.Suspects); len(got) != 1 || !got[prodDeploy] {
			t.Fatalf("production incident suspects %+v, want only the production deploy %d (not the staging chaos run %d)", prod.Suspects, prodDeploy, chaos)
		}

		stg, err := h.m.Open(ctx, incident.OpenInput{Title: "staging checkout errors", Services: []string{"checkout"}, Severity: "sev3",
			StartedAt: start, NoPage: true, Labels: map[string]string{"environment": "staging"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(stg.Suspects); len(got) != 2 || !got[chaos] || !got[deps[0].ID] {
			t.Fatalf("staging incident suspects %+v, want the chaos run %d and the dependency's config %d", stg.Suspects, chaos, deps[0].ID)
		}

		// A staging change while the production incident is open is not on
		// its timeline.
		h.clk.Advance(time.Minute)
		record("staging", change.KindDeploy, "v42", h.clk.Now())
		tl, err := h.m.Timeline(ctx, prod.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tl {
			if e.Kind == incident.EvChange && e.Data["version"] == "v42" {
				t.Fatalf("staging deploy on the production incident's timeline: %+v", e)
			}
		}
		tl, err = h.m.Timeline(ctx, stg.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range tl {
			found = found || (e.Kind == incident.EvChange && e.Data["version"] == "v42")
		}
		if !found {
			t.Fatalf("staging deploy missing from the staging incident's timeline: %+v", tl)
		}
	})
}

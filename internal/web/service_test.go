package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/gate"
)

func TestServicePageChangesAndGates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		changes := change.NewStore(d)
		evs, err := changes.Record(ctx, []change.Event{
			{Service: "checkout", Kind: change.KindDeploy, Version: "v1.4.2", FinishedAt: testNow.Add(-3 * time.Hour), Actor: "ci", Verify: true},
			{Service: "checkout", Kind: change.KindRollback, Version: "v1.4.1", FinishedAt: testNow.Add(-2 * time.Hour), Status: change.StatusSuccess},
			{Service: "checkout", Kind: change.KindDeploy, Version: "v1.5.0", Environment: "staging", FinishedAt: testNow.Add(-time.Hour)},
			{Service: "search-api", Kind: change.KindDeploy, Version: "v9", FinishedAt: testNow.Add(-time.Hour)},
		}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		gates := gate.NewStore(d)
		if _, err := gates.Record(ctx, gate.Result{Kind: gate.KindVerify, Service: "checkout", Verdict: gate.Fail, ChangeID: evs[0].ID,
			Message: "error ratio doubled", Checks: []gate.Check{{Name: "error_ratio", Value: gate.Measured(0.02), Op: "<=", Threshold: 0.01, Verdict: gate.Fail}}}, testNow); err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, d, Deps{PublicRead: true, Changes: changes, Gates: gates})
		res, body := get(t, http.DefaultClient, s.URL+"/services/checkout?range=24h")
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, body)
		}
		for _, want := range []string{
			`id="change-` + itoa(evs[0].ID) + `"`, "v1.4.2", "v1.5.0", // every environment in the table
			"verify gate", "error ratio doubled", `id="gate-runs"`, "error_ratio",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("service page lacks %q", want)
			}
		}
		if strings.Contains(body, "v9") {
			t.Errorf("another service's change is listed")
		}
		if !strings.Contains(body, "SLOs are not available") {
			t.Errorf("the page does not say SLOs are unavailable")
		}
		// A wrong name answers 404 with suggestions.
		res, body = get(t, http.DefaultClient, s.URL+"/services/chekout")
		if res.StatusCode != 404 || !strings.Contains(body, "did you mean checkout") {
			t.Errorf("unknown service: %d\n%s", res.StatusCode, body)
		}
		if res, _ := get(t, http.DefaultClient, s.URL+"/services/checkout?range=zz"); res.StatusCode != 400 {
			t.Errorf("bad range: %d", res.StatusCode)
		}
	})
}

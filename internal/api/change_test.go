package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/incident"
)

const webhookSecret = "It's a Secret to Everybody"

// changeServer starts tandem with the examples and a GitHub section with a
// literal webhook secret.
func changeServer(t testing.TB, postgres bool) *apptest.Server {
	t.Helper()
	to := filepath.Join(t.TempDir(), "tandem.d")
	if err := os.CopyFS(to, os.DirFS(apptest.ExamplesDir(t))); err != nil {
		t.Fatal(err)
	}
	cfg := "github:\n  webhook_secret: \"" + webhookSecret + "\"\n  deploy_workflows: [Deploy]\n"
	if err := os.WriteFile(filepath.Join(to, "change.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return apptest.Start(t, apptest.Options{OpenAPI: true, ConfigDir: to, Postgres: postgres})
}

func engines(t *testing.T, fn func(t *testing.T, s *apptest.Server)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, changeServer(t, false)) })
	t.Run("postgres", func(t *testing.T) { fn(t, changeServer(t, true)) })
}

func TestChangesAPI(t *testing.T) {
	engines(t, func(t *testing.T, s *apptest.Server) {
		u, tok := s.URL+"/api/v1/changes", s.AdminToken
		now := time.Now().UTC()
		fin := now.Add(-time.Hour).Format(time.RFC3339)
		body := `{"service":"checkout","version":"1.2.3","commit":"abcdef1","external_id":"run-7","finished_at":"` + fin + `","labels":["hotfix"]}`
		code, _, b := call(t, "POST", u, tok, strings.NewReader(body))
		if code != 201 {
			t.Fatalf("record: %d %s", code, b)
		}
		var first change.Event
		json.Unmarshal(b, &first)
		// The same id again: one record, the first one, 200.
		code, _, b = call(t, "POST", u, tok, strings.NewReader(strings.Replace(body, "1.2.3", "9.9.9", 1)))
		var again change.Event
		json.Unmarshal(b, &again)
		if code != 200 || again.ID != first.ID || again.Version != "1.2.3" || !again.Existing {
			t.Fatalf("record again: %d %s", code, b)
		}

		// A batch is all or nothing and names the bad item.
		batch := `{"events":[{"service":"checkout","finished_at":"` + fin + `"},{"service":"search-api","finished_at":"` + fin + `"},{"service":"checkout","status":"done","finished_at":"` + fin + `"}]}`
		code, _, b = call(t, "POST", u, tok, strings.NewReader(batch))
		if e := apiError(t, b); code != 400 || e.Field != "events[2].status" {
			t.Fatalf("bad batch: %d %s", code, b)
		}
		// Unknown service: 422 with close names.
		code, _, b = call(t, "POST", u, tok, strings.NewReader(`{"events":[{"service":"checkout"},{"service":"chekout"}]}`))
		if e := apiError(t, b); code != 422 || e.Field != "events[1].service" || !strings.Contains(e.Message, "checkout") {
			t.Fatalf("unknown service: %d %s", code, b)
		}
		// Missing field, future time, malformed JSON, unknown field.
		for _, c := range []struct {
			body, field string
		}{
			{`{"version":"1"}`, "service"},
			{`{"service":"checkout","finished_at":"` + now.Add(time.Hour).Format(time.RFC3339) + `"}`, "finished_at"},
			{`{"service":"checkout","commit":"not-a-sha"}`, "commit"},
			{`{"service":"checkout","colour":"red"}`, "colour"},
			{`{"service":"checkout","finished_at":"yesterday"}`, ""},
		} {
			code, _, b = call(t, "POST", u, tok, strings.NewReader(c.body))
			if e := apiError(t, b); code != 400 || e.Field != c.field {
				t.Errorf("%s: %d %s, want 400 field %q", c.body, code, b, c.field)
			}
		}
		code, _, b = call(t, "GET", u+"?service=checkout", tok, nil)
		var l struct {
			Items []change.Event `json:"items"`
			Count int            `json:"count"`
		}
		json.Unmarshal(b, &l)
		if code != 200 || l.Count != 1 {
			t.Fatalf("list after failed batches: %d %s", code, b)
		}

		// Start and finish by the same id.
		code, _, b = call(t, "POST", u, tok, strings.NewReader(`{"service":"search-api","status":"in_progress","external_id":"p-1","source":"ci","started_at":"`+now.Add(-10*time.Minute).Format(time.RFC3339)+`"}`))
		if code != 201 {
			t.Fatalf("start: %d %s", code, b)
		}
		code, _, b = call(t, "POST", u, tok, strings.NewReader(`{"service":"search-api","status":"failed","external_id":"p-1","source":"ci","failure_reason":"smoke"}`))
		var fin2 change.Event
		json.Unmarshal(b, &fin2)
		if code != 200 || fin2.Status != "failed" || fin2.FinishedAt.IsZero() || fin2.FailureReason != "smoke" {
			t.Fatalf("finish: %d %s", code, b)
		}
		// PATCH: verification marks the first deploy failed.
		code, _, b = call(t, "PATCH", fmt.Sprintf("%s/%d", u, first.ID), tok, strings.NewReader(`{"status":"failed","failure_reason":"verification: error rate 4%"}`))
		if code != 200 || !strings.Contains(string(b), `"status":"failed"`) {
			t.Fatalf("patch: %d %s", code, b)
		}
		if code, _, b = call(t, "PATCH", u+"/999999", tok, strings.NewReader(`{"status":"failed"}`)); code != 404 {
			t.Errorf("patch missing: %d %s", code, b)
		}
		// Around: the suspects near a moment.
		code, _, b = call(t, "GET", u+"?around="+now.Format(time.RFC3339)+"&window=2h", tok, nil)
		json.Unmarshal(b, &l)
		if code != 200 || l.Count != 2 || l.Items[0].Service != "search-api" {
			t.Fatalf("around: %d %s", code, b)
		}
		if code, _, b = call(t, "GET", u+"?kind=deploy,bogus", tok, nil); code != 400 {
			t.Errorf("bad kind: %d %s", code, b)
		}
	})
}

func TestGitHubWebhook(t *testing.T) {
	engines(t, func(t *testing.T, s *apptest.Server) {
		u := s.URL + "/api/v1/webhooks/github"
		body, err := os.ReadFile("../change/testdata/github/deployment_status.json")
		if err != nil {
			t.Fatal(err)
		}
		// Bad and missing signatures: 401, nothing stored.
		for _, sig := range []string{"", "sha256=00", change.Sign([]byte("wrong"), body)} {
			code, _, b := call(t, "POST", u, "", bytes.NewReader(body), "X-GitHub-Event", "deployment_status", change.SignatureHeader, sig)
			if code != 401 {
				t.Errorf("signature %q: %d %s", sig, code, b)
			}
		}
		_, _, b := call(t, "GET", s.URL+"/api/v1/changes", s.AdminToken, nil)
		if !strings.Contains(string(b), `"count":0`) {
			t.Fatalf("a badly signed delivery stored something: %s", b)
		}
		// The right signature: the deploy appears with its status.
		code, _, b := call(t, "POST", u, "", bytes.NewReader(body), "X-GitHub-Event", "deployment_status",
			change.SignatureHeader, change.Sign([]byte(webhookSecret), body), "X-GitHub-Delivery", "d-1")
		if code != 200 {
			t.Fatalf("signed delivery: %d %s", code, b)
		}
		evs, err := s.Client.Changes(t.Context(), clientQuery("checkout"))
		if err != nil || len(evs) != 1 || evs[0].Status != "success" || evs[0].Source != "github" || evs[0].Commit != "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" {
			t.Fatalf("stored: %+v %v", evs, err)
		}
		// Redelivery: still one.
		call(t, "POST", u, "", bytes.NewReader(body), "X-GitHub-Event", "deployment_status", change.SignatureHeader, change.Sign([]byte(webhookSecret), body))
		if evs, _ := s.Client.Changes(t.Context(), clientQuery("checkout")); len(evs) != 1 {
			t.Fatalf("redelivery stored %d", len(evs))
		}
		// push: commits with their times.
		push, _ := os.ReadFile("../change/testdata/github/push.json")
		code, _, b = call(t, "POST", u, "", bytes.NewReader(push), "X-GitHub-Event", "push", change.SignatureHeader, change.Sign([]byte(webhookSecret), push))
		if code != 200 || !strings.Contains(string(b), `"commits":2`) {
			t.Fatalf("push: %d %s", code, b)
		}
		// workflow_run of the deploy workflow.
		wr, _ := os.ReadFile("../change/testdata/github/workflow_run.json")
		code, _, b = call(t, "POST", u, "", bytes.NewReader(wr), "X-GitHub-Event", "workflow_run", change.SignatureHeader, change.Sign([]byte(webhookSecret), wr))
		if code != 200 || !strings.Contains(string(b), `"external_id":"workflow_run/example/checkout/30433642/1"`) {
			t.Fatalf("workflow_run: %d %s", code, b)
		}
		// pull_request: the merge time starts lead time.
		pr, _ := os.ReadFile("../change/testdata/github/pull_request.json")
		code, _, b = call(t, "POST", u, "", bytes.NewReader(pr), "X-GitHub-Event", "pull_request", change.SignatureHeader, change.Sign([]byte(webhookSecret), pr))
		if code != 200 || !strings.Contains(string(b), `"commits":2`) {
			t.Fatalf("pull_request: %d %s", code, b)
		}
		// Two deploys of head f95f852: the workflow run (09:18:40) ships it
		// and 0d1a26 (pushed before it, merged at 09:10:00): both 520 s; the
		// deployment (09:24:31) ships nothing new. Without the merge time,
		// 0d1a26 would count from its commit at 07:05:12.
		code, _, b = call(t, "GET", s.URL+"/api/v1/dora?service=checkout&from=2026-03-01&to=2026-03-02", s.AdminToken, nil)
		if code != 200 || !strings.Contains(string(b), `"lead_time_median_seconds":520,`) || !strings.Contains(string(b), `"deploys":2,`) ||
			!strings.Contains(string(b), `"lead_time_commits":2`) {
			t.Errorf("dora from webhooks: %d %s", code, b)
		}
		// A malformed payload, correctly signed: 400, not 500.
		junk := []byte(`{"deployment": "x"}`)
		if code, _, b = call(t, "POST", u, "", bytes.NewReader(junk), "X-GitHub-Event", "deployment_status", change.SignatureHeader, change.Sign([]byte(webhookSecret), junk)); code != 400 {
			t.Errorf("junk: %d %s", code, b)
		}
	})
}

func clientQuery(service string) client.ChangeQuery {
	return client.ChangeQuery{Services: []string{service}}
}

func TestDORAAPI(t *testing.T) {
	s := changeServer(t, false)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	// checkout: 4 deploys over the last 4 days, the third failed and
	// recovered 30 minutes later by the fourth.
	c1, c2 := now.Add(-4*24*time.Hour-2*time.Hour), now.Add(-2*24*time.Hour-time.Hour)
	if _, err := s.Client.RecordCommits(ctx, []client.Commit{
		{Service: "checkout", SHA: "aaaaaaa", CommittedAt: c1},
		{Service: "checkout", SHA: "bbbbbbb", CommittedAt: c2},
	}); err != nil {
		t.Fatal(err)
	}
	d := func(ago time.Duration, status string, commits ...string) client.ChangeEvent {
		return client.ChangeEvent{Service: "checkout", FinishedAt: now.Add(-ago), Status: status, Commits: commits}
	}
	if _, err := s.Client.RecordChanges(ctx, []client.ChangeEvent{
		d(4*24*time.Hour, "success", "aaaaaaa"),   // lead 2h
		d(2*24*time.Hour, "success", "bbbbbbb"),   // lead 1h
		d(24*time.Hour, "failed"),                 // failure
		d(24*time.Hour-30*time.Minute, "success"), // recovery 30m
	}); err != nil {
		t.Fatal(err)
	}
	code, _, b := call(t, "GET", s.URL+"/api/v1/dora?service=checkout&since=7d", s.AdminToken, nil)
	if code != 200 {
		t.Fatalf("dora: %d %s", code, b)
	}
	var r map[string]any
	json.Unmarshal(b, &r)
	// 3 successful of 4 in 7 days; CFR 1/4; leads 1h, 2h -> median 1.5h;
	// recovery 30m; rework: the fourth deploy follows the failed third -> 1/4.
	want := map[string]any{
		"deployment_frequency_per_day": 3.0 / 7, "lead_time_median_seconds": 5400.0, "lead_time_p90_seconds": 6840.0,
		"change_failure_rate": 0.25, "recovery_time_median_seconds": 1800.0, "rework_rate": 0.25,
		"deployment_frequency_tier": "high", "lead_time_tier": "elite", "change_failure_rate_tier": "medium",
		"recovery_time_tier": "elite", "deploys": 4.0, "failed_deploys": 1.0, "lead_time_commits": 2.0, "service": "checkout", "team": "payments",
	}
	for k, v := range want {
		got := r[k]
		if f, ok := v.(float64); ok {
			if g, ok := got.(float64); !ok || mathAbs(g-f) > 1e-9 {
				t.Errorf("%s = %v, want %v", k, got, v)
			}
		} else if got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	for _, c := range []struct {
		q    string
		code int
	}{
		{"service=chekout", 422}, {"team=paymnts", 422}, {"by=year", 400}, {"since=soon", 400},
		{"from=2026-01-02&to=2026-01-01", 400}, {"since=7d&from=2026-01-01", 400},
	} {
		if code, _, b := call(t, "GET", s.URL+"/api/v1/dora?"+c.q, s.AdminToken, nil); code != c.code {
			t.Errorf("%s: %d %s, want %d", c.q, code, b, c.code)
		}
	}
	code, _, b = call(t, "GET", s.URL+"/api/v1/dora?team=payments&by=week", s.AdminToken, nil)
	if code != 200 || !strings.Contains(string(b), `"periods":[`) {
		t.Errorf("team by week: %d %s", code, b)
	}
	// The gauges on /metrics.
	_, _, b = call(t, "GET", s.URL+"/metrics", "", nil)
	for _, line := range []string{
		`tandem_dora_deployment_frequency_per_day{service="checkout",team="payments"} 0.1`,
		`tandem_dora_change_failure_rate{service="checkout",team="payments"} 0.25`,
		`tandem_dora_lead_time_median_seconds{service="checkout",team="payments"} 5400`,
		`tandem_dora_tier{metric="lead_time",service="checkout",team="payments"} 4`,
	} {
		if !strings.Contains(string(b), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

func mathAbs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// BenchmarkIngestAPI sends deploy events through the HTTP API in batches of
// 500 (the target is 2,000 events per second).
func BenchmarkIngestAPI(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			s := changeServer(b, engine == "postgres")
			services := []string{"checkout", "payments-api", "invoicing", "search-api", "identity-api"}
			base := time.Now().Add(-300 * 24 * time.Hour)
			n := 0
			batch := make([]client.ChangeEvent, 500)
			start := time.Now()
			for b.Loop() {
				for i := range batch {
					n++
					batch[i] = client.ChangeEvent{Service: services[n%len(services)], Version: fmt.Sprintf("1.%d", n), Commit: "abcdef1",
						FinishedAt: base.Add(time.Duration(n) * time.Second), ExternalID: fmt.Sprintf("bench-%d", n), Source: "bench"}
				}
				if _, err := s.Client.RecordChanges(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// Incidents reach DORA through the incident manager: one opened an hour
// after a deploy fails it (24h window), one labelled deploy_id fails the
// deploy it names however late it started.
func TestDORAWithIncidents(t *testing.T) {
	s := changeServer(t, false)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	out, err := s.Client.RecordChanges(ctx, []client.ChangeEvent{
		{Service: "payments-api", FinishedAt: now.Add(-5 * 24 * time.Hour)},
		{Service: "payments-api", FinishedAt: now.Add(-2 * 24 * time.Hour)},
		{Service: "payments-api", FinishedAt: now.Add(-1 * 24 * time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	mgr := s.Main.API.Incident.Manager
	if mgr == nil {
		t.Skip("no incident manager wired")
	}
	open := func(started time.Time, labels map[string]string) {
		inc, err := mgr.Open(ctx, incident.OpenInput{Title: "errors", Services: []string{"payments-api"}, Severity: "sev2",
			StartedAt: started, Labels: labels, NoPage: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mgr.Resolve(ctx, inc.ID, "test", ""); err != nil {
			t.Fatal(err)
		}
	}
	open(now.Add(-2*24*time.Hour+time.Hour), nil)
	open(now.Add(-4*24*time.Hour), map[string]string{"deploy_id": fmt.Sprint(out.Items[0].ID)})
	code, _, b := call(t, "GET", s.URL+"/api/v1/dora?service=payments-api&since=7d", s.AdminToken, nil)
	var r struct {
		Deploys       int     `json:"deploys"`
		FailedDeploys int     `json:"failed_deploys"`
		Recoveries    int     `json:"recoveries"`
		CFR           float64 `json:"change_failure_rate"`
	}
	json.Unmarshal(b, &r)
	// 3 deploys; the first (labelled) and second (1h before an incident) failed.
	if code != 200 || r.Deploys != 3 || r.FailedDeploys != 2 || r.Recoveries != 2 {
		t.Errorf("dora with incidents: %d %s", code, b)
	}
}

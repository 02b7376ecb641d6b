package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/postmortem"
)

func TestLearningEndToEnd(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { learningEndToEnd(t, apptest.Options{}) })
	t.Run("postgres", func(t *testing.T) { learningEndToEnd(t, apptest.Options{Postgres: true}) })
}

func learningEndToEnd(t *testing.T, o apptest.Options) {
	s := apptest.Start(t, o)
	ctx := context.Background()
	c := s.Client

	// Toil: log, bad input, CSV import all-or-nothing, report.
	e, err := c.LogToil(ctx, client.ToilInput{Minutes: 30, Category: "restart", Service: "checkout", Person: "alice", Note: "stuck pod"})
	if err != nil || e.Team != "payments" || e.Minutes != 30 {
		t.Fatalf("log: %+v %v", e, err)
	}
	_, err = c.LogToil(ctx, client.ToilInput{Minutes: 30, Category: "restart", Service: "chekout"})
	var te *tandem.Error
	if !asErr(err, &te) || te.Code != tandem.EUnprocessable || te.Field != "service" || !strings.Contains(te.Message, "checkout") {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := c.LogToil(ctx, client.ToilInput{Minutes: -5, Category: "restart"}); tandem.ErrorCode(err) != tandem.EInvalid {
		t.Errorf("negative minutes: %v", err)
	}
	csv := "Issue key,Summary,Created,Labels,Time Spent\nOPS-1,Restart,2026-11-02,toil,1800\nOPS-2,No time,2026-11-03,toil,\n"
	rep, err := c.ImportToilCSV(ctx, strings.NewReader(csv), client.CSVImportOptions{})
	if err != nil || rep.Imported || len(rep.Bad) != 1 || rep.Bad[0].Row != 3 {
		t.Fatalf("import with a bad row: %+v %v", rep, err)
	}
	rep, err = c.ImportToilCSV(ctx, strings.NewReader(csv), client.CSVImportOptions{SkipBad: true})
	if err != nil || !rep.Imported || rep.Created != 1 {
		t.Fatalf("import --skip-bad: %+v %v", rep, err)
	}
	all, err := c.ToilEntries(ctx, url.Values{})
	if err != nil || len(all) != 2 {
		t.Errorf("entries: %d %v", len(all), err)
	}
	r, err := c.ToilReport(ctx, "", "3650d", "category", "")
	// 30 min of restart, 30 min of "other" (OPS-1 has no category label).
	if err != nil || r.Total.Hours != 1 || len(r.Rows) != 2 {
		t.Errorf("report: %+v %v", r, err)
	}
	if _, err := c.ToilReport(ctx, "2026-13", "", "", ""); tandem.ErrorCode(err) != tandem.EInvalid {
		t.Errorf("bad month: %v", err)
	}
	if gs, err := c.ToilGoals(ctx); err != nil || len(gs) != 2 {
		t.Errorf("goals: %+v %v", gs, err)
	}
	objs, err := c.OKRStatus(ctx, "2026Q4", "payments")
	if err != nil || len(objs) != 2 {
		t.Errorf("okrs: %+v %v", objs, err)
	}
	// Platform's toil key result reads the toil log: 50 + 40 min of restores
	// in the quarter = 1.5 h against < 40h: score 1; the other key result
	// (restores reduced by 80% against Q3) has no Q3 data: no_baseline.
	for _, m := range []int{50, 40} {
		at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
		if _, err := c.LogToil(ctx, client.ToilInput{At: &at, Minutes: m, Category: "data-restore", Service: "postgres-main"}); err != nil {
			t.Fatal(err)
		}
	}
	objs, err = c.OKRStatus(ctx, "2026Q4", "platform")
	var lessToil *client.ObjectiveStatus
	for i := range objs {
		if objs[i].Name == "less-toil" {
			lessToil = &objs[i]
		}
	}
	if err != nil || lessToil == nil {
		t.Fatalf("okrs for platform: %+v %v", objs, err)
	}
	if kr := lessToil.KeyResults[0]; kr.Status != "ok" || *kr.Current != 1.5 || kr.Score == nil || *kr.Score != 1 || !kr.Met {
		t.Errorf("toil-hours = %+v", kr)
	}
	if kr := lessToil.KeyResults[1]; kr.Status != "no_data" && kr.Status != "no_baseline" {
		t.Errorf("restores = %+v", kr)
	}
	// Bad input: 400 naming the field, 422 for unknown references, 404.
	for _, tc := range []struct {
		method, path, body, code, field string
	}{
		{"GET", "/api/v1/okrs?quarter=2026Q9", "", tandem.EInvalid, "quarter"},
		{"GET", "/api/v1/okrs?team=paymnts", "", tandem.EUnprocessable, "team"},
		{"GET", "/api/v1/toil/report?by=color", "", tandem.EInvalid, "by"},
		{"POST", "/api/v1/toil", `{"minutes": 5, "category": "x", "colour": 1}`, tandem.EInvalid, "colour"},
		{"POST", "/api/v1/toil", `{"minutes": "5", "category": "x"}`, tandem.EInvalid, "minutes"},
		{"POST", "/api/v1/postmortems", `{"incident_id": 999}`, tandem.EUnprocessable, "incident_id"},
		{"PUT", "/api/v1/postmortems/abc", `{}`, tandem.EInvalid, "id"},
		{"PATCH", "/api/v1/actions/999", `{"status": "done"}`, tandem.ENotFound, ""},
		{"POST", "/api/v1/actions", `{"title": "x", "due": "tomorrow"}`, tandem.EInvalid, "due"},
		{"POST", "/api/v1/actions", `{"title": "x", "owner": "bobb"}`, tandem.EUnprocessable, "owner"},
	} {
		var body any
		if tc.body != "" {
			body = json.RawMessage(tc.body)
		}
		path, rawQuery, _ := strings.Cut(tc.path, "?")
		q, _ := url.ParseQuery(rawQuery)
		err := c.Do(ctx, tc.method, path, q, body, nil)
		var te *tandem.Error
		if !asErr(err, &te) || te.Code != tc.code || te.Field != tc.field {
			t.Errorf("%s %s: %v, want %s field %q", tc.method, tc.path, err, tc.code, tc.field)
		}
	}

	// Postmortems: closing a sev1 writes one through the engine.
	made := make(chan postmortem.Postmortem, 1)
	s.Main.API.Learning.Postmortems.OnCreate(func(p postmortem.Postmortem) { made <- p })
	mgr := s.Main.API.Incident.Manager
	inc, err := mgr.Open(ctx, incident.OpenInput{Title: "Checkout down", Services: []string{"checkout"}, Severity: "sev1", Commander: "alice", NoPage: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Resolve(ctx, inc.ID, "alice", "fixed"); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Close(ctx, inc.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	// The server's engine runs the generation job.
	<-made
	pms, err := c.Postmortems(ctx, "", "")
	if err != nil || len(pms) != 1 || pms[0].IncidentID != inc.ID || pms[0].Template != "payments.md" {
		t.Fatalf("postmortems: %+v %v", pms, err)
	}
	md := pms[0].Markdown + "\n- [ ] Add a synthetic check (owner: @bob, due: 2026-01-02)\n"
	p, err := c.UpdatePostmortem(ctx, pms[0].ID, client.PostmortemUpdate{Markdown: &md})
	if err != nil || p.Version != 2 || len(p.ActionItems) != 1 || !p.ActionItems[0].Overdue {
		t.Fatalf("update: %+v %v", p, err)
	}
	items, err := c.ActionItems(ctx, client.ActionFilter{Overdue: true, Owner: "bob"})
	if err != nil || len(items) != 1 {
		t.Errorf("overdue: %+v %v", items, err)
	}
	got, err := c.PostmortemMarkdown(ctx, p.ID)
	if err != nil || got != md {
		t.Errorf("markdown export: %v", err)
	}
	// PUT raw Markdown.
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/api/v1/postmortems/1?status=in_review", strings.NewReader("# short\n"))
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	req.Header.Set("Content-Type", "text/markdown")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("PUT markdown: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if _, err := c.Postmortem(ctx, 999); tandem.ErrorCode(err) != tandem.ENotFound {
		t.Errorf("missing postmortem: %v", err)
	}
	bad := "bogus"
	if _, err := c.UpdatePostmortem(ctx, p.ID, client.PostmortemUpdate{Status: &bad}); tandem.ErrorCode(err) != tandem.EInvalid {
		t.Errorf("bad status: %v", err)
	}
}

func asErr(err error, te **tandem.Error) bool {
	e, ok := err.(*tandem.Error)
	if ok {
		*te = e
	}
	return ok
}

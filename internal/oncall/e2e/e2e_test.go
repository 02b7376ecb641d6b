// Package e2e_test runs the on-call API and CLI against a real tandem
// server (internal/app/apptest) on SQLite and PostgreSQL.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/cli"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/oncall"
)

// now is Wednesday 25 November 2026, 09:00 UTC (10:00 in Berlin).
var now = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// TestOncallAPIAndCLI boots tandem on the example config, on both engines,
// and walks the on-call API and CLI.
func TestOncallAPIAndCLI(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { testOncallAPI(t, pg) })
	}
}

func testOncallAPI(t *testing.T, postgres bool) {
	srv := apptest.Start(t, apptest.Options{Postgres: postgres, Clock: clock.NewFake(now)})
	ctx := context.Background()
	c := srv.Client

	// Who is on call, by hand from examples/tandem.d/oncall.yaml:
	// sre-primary: the europe-day layer (weekdays 09:00-18:00 Berlin) -> niaj.
	// payments-primary: weekly from Mon 5 Jan; Mon 23 Nov is 322 days =
	//   46 weeks later, 46 mod 3 = 1 -> bob.
	// platform-primary: daily at 10:00 London from 1 Jan; at 09:00 the turn
	//   of 24 Nov is on, 327 days in, 327 mod 3 = 0 -> dave.
	sum, err := c.OncallSummary(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sre-primary": "niaj", "payments-primary": "bob", "platform-primary": "dave"}
	for _, s := range sum.Schedules {
		if w, ok := want[s.Schedule]; ok && (len(s.OnCall) != 1 || s.OnCall[0] != w) {
			t.Errorf("%s: on call %v, want %s", s.Schedule, s.OnCall, w)
		}
	}
	found := false
	for _, p := range sum.Policies {
		if p.Name == "Dev-SRE Escalation Policy" {
			found = true
			if len(p.Rules) != 2 || p.Rules[0].People[0] != "alice" || p.Rules[1].People[0] != "niaj" || p.Services[0] != "checkout" {
				t.Errorf("Dev-SRE now = %+v", p)
			}
		}
	}
	if !found {
		t.Error("GET /api/v1/oncall lacks the Dev-SRE policy")
	}

	// A run-time override by niaj: mallory covers the next two hours.
	o, err := c.AddOverride(ctx, "sre-primary", client.NewOverride{Person: "mallory", Start: "2026-11-25T09:00:00Z", End: "2026-11-25T11:00:00Z", Author: "niaj", Reason: "dentist"})
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 || o.Author != "niaj" || o.Source != oncall.SourceAPI {
		t.Errorf("override = %+v", o)
	}
	r, err := c.OnCall(ctx, "sre-primary", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.OnCall) != 1 || r.OnCall[0] != "mallory" || r.Override == nil || r.Override.Author != "niaj" || r.Layers[1].Person != "niaj" {
		t.Errorf("on call with override = %+v", r)
	}
	// An author defaults to the token's name.
	o2, err := c.AddOverride(ctx, "payments-primary", client.NewOverride{Person: "carol", Start: "2026-11-26T00:00:00Z", End: "2026-11-26T06:00:00Z"})
	if err != nil || o2.Author != "token:test-admin" {
		t.Errorf("override without author = %+v %v", o2, err)
	}

	// Bad input: 4xx naming the field, never a 500.
	for _, tc := range []struct {
		name, path string
		body       any
		code       string
		field, msg string
	}{
		{"unknown person", "sre-primary", client.NewOverride{Person: "malory", Start: "2026-11-25T09:00:00Z", End: "2026-11-25T10:00:00Z"}, tandem.EUnprocessable, "person", `did you mean mallory`},
		{"end before start", "sre-primary", client.NewOverride{Person: "niaj", Start: "2026-11-25T09:00:00Z", End: "2026-11-25T08:00:00Z"}, tandem.EInvalid, "end", "after start"},
		{"bad time", "sre-primary", client.NewOverride{Person: "niaj", Start: "tomorrow", End: "2026-11-25T08:00:00Z"}, tandem.EInvalid, "start", "invalid time"},
		{"unknown field", "sre-primary", map[string]string{"persn": "niaj"}, tandem.EInvalid, "persn", "unknown field"},
		{"unknown schedule", "sre-primery", client.NewOverride{Person: "niaj", Start: "2026-11-25T09:00:00Z", End: "2026-11-25T10:00:00Z"}, tandem.ENotFound, "", "did you mean sre-primary"},
	} {
		err := c.Do(ctx, http.MethodPost, "/api/v1/schedules/"+tc.path+"/overrides", nil, tc.body, nil)
		var te *tandem.Error
		if !errorAs(err, &te) || te.Code != tc.code || te.Field != tc.field || !strings.Contains(te.Message, tc.msg) {
			t.Errorf("%s: got %v, want %s field %q containing %q", tc.name, err, tc.code, tc.field, tc.msg)
		}
	}
	if _, err := c.OnCall(ctx, "sre-primary", time.Time{}); err != nil {
		t.Error(err)
	}
	err = c.Do(ctx, http.MethodGet, "/api/v1/schedules/sre-primary/oncall", map[string][]string{"at": {"next tuesday"}}, nil, nil)
	if te, ok := err.(*tandem.Error); !ok || te.Field != "at" {
		t.Errorf("bad at: %v", err)
	}
	err = c.Do(ctx, http.MethodGet, "/api/v1/schedules/sre-primary/shifts", map[string][]string{"from": {"2026-01-01"}, "to": {"2028-01-01"}}, nil, nil)
	if te, ok := err.(*tandem.Error); !ok || te.Field != "to" {
		t.Errorf("two-year range: %v", err)
	}

	// Odd requests get a 4xx naming the problem, never a 500.
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/schedules/sre-primary/shifts?from=9000-01-01", 400},
		{"GET", "/api/v1/schedules/sre-primary/shifts?from=2026-11-25&to=2026-11-24", 400},
		{"GET", "/api/v1/schedules/sre-primary/oncall?at=99999999999999", 400},
		{"GET", "/api/v1/oncall?at=%00", 400},
		{"DELETE", "/api/v1/schedules/sre-primary/overrides/abc", 400},
		{"DELETE", "/api/v1/schedules/sre-primary/overrides/-1", 400},
		{"DELETE", "/api/v1/schedules/sre-primary/overrides/999999", 404},
		{"GET", "/api/v1/schedules/nope.ics", 404},
		{"GET", "/api/v1/schedules/nope", 404},
		{"GET", "/api/v1/people/nobody.ics", 404},
		{"GET", "/api/v1/oncall/people/niaj", 404},
		{"GET", "/api/v1/schedules/sre-primary/overrides?from=1900-01-01", 400},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.status)
		}
	}

	// Shifts for Wednesday: mallory's override, then niaj's day layer until
	// 17:00Z (18:00 Berlin), then mallory's base layer.
	shifts, err := c.Shifts(ctx, "sre-primary", now, now.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range shifts {
		got = append(got, s.Start.UTC().Format("15:04")+" "+s.Person+"/"+s.Layer)
	}
	if strings.Join(got, ", ") != "09:00 mallory/override, 11:00 niaj/europe-day, 17:00 mallory/base" {
		t.Errorf("shifts = %v", got)
	}

	// The calendar feeds: the schedule's with ?token=, the person's with a
	// Bearer header; both parse as RFC 5545.
	read := srv.Token(t, "calendar", auth.ScopeRead)
	for _, tc := range []struct{ url, bearer string }{
		{srv.URL + "/api/v1/schedules/sre-primary.ics?token=" + read, ""},
		{srv.URL + "/api/v1/oncall/people/niaj.ics?token=" + read, ""},
		{srv.URL + "/api/v1/people/niaj.ics", read},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("%s: %d %s", tc.url, resp.StatusCode, body)
		}
		comps, err := oncall.ParseICS(body)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if len(comps) < 3 {
			t.Errorf("%s: only %d components", tc.url, len(comps))
		}
	}
	resp, err := http.Get(srv.URL + "/api/v1/schedules/sre-primary.ics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("feed without a token: %d", resp.StatusCode)
	}

	// The CLI against the same server.
	base := []string{"--url", srv.URL, "--token", srv.AdminToken}
	code, out, errOut := runCLI(append([]string{"oncall", "who"}, base...)...)
	if code != 0 || !strings.Contains(out, "sre-primary") || !strings.Contains(out, "Dev-SRE Escalation Policy") {
		t.Errorf("oncall who: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(append([]string{"oncall", "who", "--schedule", "sre-primary", "--at", "2026-11-25T10:00:00Z", "--format", "json"}, base...)...)
	var res oncall.Resolution
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.OnCall[0] != "mallory" {
		t.Errorf("oncall who --schedule: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(append([]string{"oncall", "shifts", "--schedule", "sre-primary", "--from", "2026-11-25T09:00:00Z", "--to", "2026-11-25T21:00:00Z"}, base...)...)
	if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, "europe-day") {
		t.Errorf("oncall shifts: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(append([]string{"oncall", "override", "add", "--schedule", "sre-primary", "--person", "niaj",
		"--start", "2026-11-27T00:00:00Z", "--end", "2026-11-27T06:00:00Z", "--author", "mallory", "--format", "json"}, base...)...)
	var added oncall.Override
	if code != 0 || json.Unmarshal([]byte(out), &added) != nil || added.Author != "mallory" {
		t.Fatalf("override add: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(append([]string{"oncall", "override", "list", "--schedule", "sre-primary", "--all"}, base...)...)
	if code != 0 || !strings.Contains(out, "dentist") || !strings.Contains(out, "mallory") {
		t.Errorf("override list: %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(append([]string{"oncall", "override", "remove", "--schedule", "sre-primary", itoa(added.ID)}, base...)...)
	if code != 0 {
		t.Errorf("override remove: %d %s", code, errOut)
	}
	code, _, errOut = runCLI(append([]string{"oncall", "override", "remove", "--schedule", "sre-primary", itoa(added.ID)}, base...)...)
	if code != 1 || !strings.Contains(errOut, "not_found") {
		t.Errorf("second remove: %d %s", code, errOut)
	}
	code, _, errOut = runCLI(append([]string{"oncall", "shifts"}, base...)...)
	if code != 1 || !strings.Contains(errOut, "--schedule") {
		t.Errorf("shifts without --schedule: %d %s", code, errOut)
	}
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func errorAs(err error, target **tandem.Error) bool {
	te, ok := err.(*tandem.Error)
	if ok {
		*target = te
	}
	return ok
}

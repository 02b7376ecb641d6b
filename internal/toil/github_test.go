package toil

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFetchIssuesPaginates(t *testing.T) {
	var calls int
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Method != http.MethodGet || (r.URL.Path != "/api/v3/repos/example/ops/issues" && r.URL.Path != "/api/v3/repositories/1/issues") {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("labels") != "toil" || q.Get("state") != "all" || q.Get("per_page") != "100" {
			t.Errorf("query %s", r.URL.RawQuery)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
			t.Errorf("Accept = %q", got)
		}
		if got := r.Header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
			t.Errorf("X-GitHub-Api-Version = %q", got)
		}
		w.Header().Set("Content-Type", "application/json")
		switch q.Get("page") {
		case "":
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3/repositories/1/issues?labels=toil&state=all&per_page=100&page=2>; rel="next", <%s/api/v3/repositories/1/issues?labels=toil&state=all&per_page=100&page=2>; rel="last"`, srv.URL, srv.URL))
			fmt.Fprint(w, `[
 {"number": 7, "title": "Restart stuck consumer", "body": "Did it again.\nTime spent: 45m\n", "created_at": "2026-11-02T09:00:00Z", "closed_at": "2026-11-02T10:00:00Z",
  "labels": [{"name": "toil"}, {"name": "toil:restart"}, {"name": "service:postgres-main"}], "assignee": {"login": "dave"}, "user": {"login": "erin"}},
 {"number": 8, "title": "PR", "pull_request": {"url": "x"}, "labels": [{"name": "toil"}], "created_at": "2026-11-02T09:00:00Z"}
]`)
		case "2":
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3/repositories/1/issues?page=1>; rel="prev"`, srv.URL))
			fmt.Fprint(w, `[
 {"number": 9, "title": "No time", "body": "", "created_at": "2026-11-03T09:00:00Z", "labels": [{"name": "toil"}], "user": {"login": "erin"}},
 {"number": 10, "title": "Restore", "body": "", "created_at": "2026-11-04T09:00:00Z", "labels": [{"name": "toil"}, {"name": "time:2h"}], "user": {"login": "alice"}}
]`)
		default:
			t.Errorf("unexpected page %q", q.Get("page"))
		}
	}))
	defer srv.Close()
	g := &GitHub{BaseURL: srv.URL + "/api/v3", Token: "s3cret", HTTP: srv.Client()}
	res, err := g.FetchIssues(context.Background(), "example/ops", ImportOptions{Catalog: testCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("calls = %d, want 2", calls)
	}
	if res.Skipped != 1 || len(res.Entries) != 2 || len(res.Bad) != 1 {
		t.Fatalf("res = %+v", res)
	}
	e := res.Entries[0]
	if e.ExternalID != "example/ops#7" || e.Minutes != 45 || e.Category != "restart" || e.Service != "postgres-main" ||
		e.Person != "dave" || e.Team != "platform" || !e.At.Equal(at("2026-11-02T10:00:00Z")) {
		t.Errorf("#7 = %+v", e)
	}
	if e := res.Entries[1]; e.Minutes != 120 || e.Person != "alice" || e.Team != "payments" || !e.At.Equal(at("2026-11-04T09:00:00Z")) {
		t.Errorf("#10 = %+v", e)
	}
	if b := res.Bad[0]; b.Ref != "example/ops#9" || b.Field != "time" || b.Row != 3 {
		t.Errorf("bad = %+v", b)
	}
}

func TestFetchIssuesErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}))
	defer srv.Close()
	g := &GitHub{BaseURL: srv.URL, HTTP: srv.Client()}
	if _, err := g.FetchIssues(context.Background(), "example/missing", ImportOptions{}); err == nil {
		t.Error("404 accepted")
	}
	if _, err := g.FetchIssues(context.Background(), "no-slash", ImportOptions{}); !containsField(err, "repo") {
		t.Errorf("bad repo: %v", err)
	}
}

func FuzzIssueEntry(f *testing.F) {
	f.Add(`{"number": 7, "title": "x", "body": "Time spent: 45m", "created_at": "2026-11-02T09:00:00Z", "labels": [{"name": "toil:restart"}, {"name": "service:checkout"}]}`)
	f.Add(`{"number": 8, "labels": [{"name": "time:2h"}], "closed_at": "2026-11-02T09:00:00Z", "assignee": {"login": "alice"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		var is ghIssue
		if json.Unmarshal([]byte(in), &is) != nil {
			return
		}
		e, bad := issueEntry(is, "o/r", ImportOptions{Catalog: testCatalog()})
		if bad == nil {
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid entry %+v: %v", e, err)
			}
		}
	})
}

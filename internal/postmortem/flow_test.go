package postmortem_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/engine"
	"github.com/tandemhq/tandem/internal/incident"
	"github.com/tandemhq/tandem/internal/notify"
	"github.com/tandemhq/tandem/internal/oncall"
	"github.com/tandemhq/tandem/internal/postmortem"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

type staticDirs struct{ d *oncall.Directory }

func (s staticDirs) DirectoryAt(context.Context, time.Time) (*oncall.Directory, error) {
	return s.d, nil
}

type fakeBudgets struct{}

func (fakeBudgets) BudgetConsumed(_ context.Context, services []string, from, to time.Time) ([]postmortem.SLOImpact, error) {
	// 45 minutes of a 30-day availability SLO fully down: 45 / (0.001 * 43200) = 1.04;
	// half the requests failing: 0.52. Fixed here: the SLO capability computes it.
	return []postmortem.SLOImpact{{Name: "checkout-availability", Service: "checkout", Consumed: 0.52}}, nil
}

type flow struct {
	d       *db.DB
	clk     *clock.Fake
	e       *engine.Engine
	m       *incident.Manager
	changes *change.Store
	svc     *postmortem.Service
	set     postmortem.Settings
	mu      sync.Mutex
}

func hookServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newFlow(t *testing.T, d *db.DB) *flow {
	f := &flow{d: d, clk: clock.NewFake(t0)}
	f.e = engine.New(d, f.clk, nil, nil)
	f.m = incident.NewManager(d, f.clk, nil, f.e, notify.NewSender(notify.SMTP{}, nil))
	hook := hookServer(t)
	pol := oncall.Policy{Name: "payments", NumLoops: 1, Rules: []oncall.Rule{
		{EscalationDelayInMinutes: 10, Targets: []oncall.Target{{Type: oncall.UserReference, ID: "bob"}}},
		{EscalationDelayInMinutes: 10, Targets: []oncall.Target{{Type: oncall.UserReference, ID: "alice"}}},
	}}
	cat := catalog.New([]catalog.Team{{Name: "payments"}, {Name: "search"}},
		[]catalog.Person{{Name: "alice", Team: "payments"}, {Name: "bob", Team: "payments"}},
		[]catalog.Service{
			{Name: "checkout", Team: "payments", EscalationPolicy: "payments", RevenuePerMinute: 420},
			{Name: "search-api", Team: "search", EscalationPolicy: "payments"},
		}, nil)
	rules := func(p string) oncall.PersonRules {
		return oncall.PersonRules{Person: p,
			ContactMethods: []oncall.ContactMethod{{Name: "hook", Type: oncall.ContactWebhook, Address: hook}},
			Rules:          []oncall.NotificationRule{{StartDelayInMinutes: 0, ContactMethod: "hook"}}}
	}
	dir := oncall.NewDirectory(oncall.Config{Policies: []oncall.Policy{pol}, People: []oncall.PersonRules{rules("alice"), rules("bob")}}, cat, nil)
	f.m.Directories = staticDirs{dir}
	f.m.Catalog = func() *catalog.Catalog { return cat }
	is := incident.DefaultSettings()
	is.BaseURL = "https://tandem.example"
	is.ActionKey = []byte("test-key")
	f.m.Settings = func() incident.Settings { return is }
	f.changes = change.NewStore(d)
	f.m.Changes = f.changes
	f.svc = &postmortem.Service{
		Store: postmortem.NewStore(d), Incidents: f.m, Changes: f.changes, Budgets: fakeBudgets{},
		Catalog: func() *catalog.Catalog { return cat }, Clock: f.clk,
		Settings: func() postmortem.Settings { f.mu.Lock(); defer f.mu.Unlock(); return f.set },
	}
	f.svc.Register(f.e)
	f.m.OnClose(f.svc.CloseHook)
	return f
}

func (f *flow) walk(t *testing.T, d, step time.Duration) {
	t.Helper()
	end := f.clk.Now().Add(d)
	for {
		if _, err := f.e.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !f.clk.Now().Before(end) {
			return
		}
		f.clk.Advance(step)
	}
}

// incidentWithHistory records deploys before an incident, opens it (pages
// go out while it is open), acknowledges, rolls back, resolves and closes
// it, and returns its id.
func (f *flow) incidentWithHistory(t *testing.T, severity string) int64 {
	t.Helper()
	ctx := context.Background()
	_, err := f.changes.Record(ctx, []change.Event{
		{Service: "checkout", Kind: "deploy", Version: "v1.4.2", Actor: "carol", StartedAt: t0.Add(-40 * time.Minute), FinishedAt: t0.Add(-35 * time.Minute), Status: "success", Source: "ci", ExternalID: "run-1"},
		{Service: "checkout", Kind: "migration", Version: "V42__add_index", Actor: "carol", StartedAt: t0.Add(-20 * time.Minute), FinishedAt: t0.Add(-18 * time.Minute), Status: "success", Source: "ci", ExternalID: "run-2"},
		{Service: "search-api", Kind: "deploy", Version: "v9", StartedAt: t0.Add(-30 * time.Minute), FinishedAt: t0.Add(-29 * time.Minute), Status: "success", Source: "ci", ExternalID: "run-3"},
	}, f.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	inc, err := f.m.Open(ctx, incident.OpenInput{Title: "Checkout returns 500 for card payments", Services: []string{"checkout"},
		Severity: severity, Commander: "alice", Summary: "Card payments failed after a slow migration locked the orders table.",
		StartedAt: t0.Add(-6 * time.Minute), Impact: &incident.Impact{UsersAffected: 1200}, Actor: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	f.walk(t, 12*time.Minute, time.Minute) // bob paged at 0, alice at 10m
	if _, err := f.m.Ack(ctx, inc.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(8 * time.Minute)
	if _, err := f.changes.Record(ctx, []change.Event{{Service: "checkout", Kind: "rollback", Version: "v1.4.1", Actor: "alice",
		StartedAt: f.clk.Now().Add(-2 * time.Minute), FinishedAt: f.clk.Now(), Status: "success", Source: "ci", ExternalID: "run-4"}}, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(5 * time.Minute)
	if _, err := f.m.Resolve(ctx, inc.ID, "alice", "rolled back"); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(30 * time.Minute)
	if _, err := f.m.Close(ctx, inc.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	f.walk(t, 0, time.Second)
	return inc.ID
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func TestCloseSev1WritesPostmortem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFlow(t, d)
		id := f.incidentWithHistory(t, "sev1")
		p, err := f.svc.Store.ByIncident(context.Background(), id, f.clk.Now())
		if err != nil {
			t.Fatalf("no postmortem for the closed sev1: %v", err)
		}
		if p.Status != postmortem.Draft || p.Team != "payments" || p.RenderError != "" || p.Title != "Checkout returns 500 for card payments" {
			t.Errorf("postmortem = %+v", p)
		}
		golden(t, "sev1.golden.md", p.Markdown)
		// Generation is idempotent.
		again, created, err := f.svc.Generate(context.Background(), id)
		if err != nil || created || again.ID != p.ID {
			t.Errorf("second generate: created %v id %d err %v", created, again.ID, err)
		}
	})
}

// A postmortem lists only the changes of its incident's environment, as
// the incident's suspects: a staging change near a production incident is
// not one of its suspects, and the other way round.
func TestPostmortemChangesOnlyFromIncidentEnvironment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFlow(t, d)
		ctx := context.Background()
		if _, err := f.changes.Record(ctx, []change.Event{
			{Service: "checkout", Kind: "deploy", Version: "v7-prod", StartedAt: t0.Add(-30 * time.Minute), FinishedAt: t0.Add(-29 * time.Minute), Status: "success", Source: "ci", ExternalID: "p"},
			{Service: "checkout", Environment: "staging", Kind: "chaos", Version: "v7-staging-chaos", StartedAt: t0.Add(-20 * time.Minute), FinishedAt: t0.Add(-10 * time.Minute), Status: "success", Source: "ci", ExternalID: "s"},
		}, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		open := func(labels map[string]string) int64 {
			inc, err := f.m.Open(ctx, incident.OpenInput{Title: "Checkout errors", Services: []string{"checkout"}, Severity: "sev1",
				StartedAt: t0.Add(-5 * time.Minute), Labels: labels, NoPage: true, Actor: "test"})
			if err != nil {
				t.Fatal(err)
			}
			return inc.ID
		}
		for _, c := range []struct {
			name      string
			labels    map[string]string
			want, not string
		}{
			{"no label is production", nil, "v7-prod", "v7-staging-chaos"},
			{"production", map[string]string{"environment": "production"}, "v7-prod", "v7-staging-chaos"},
			{"staging", map[string]string{"environment": "staging"}, "v7-staging-chaos", "v7-prod"},
		} {
			p, _, err := f.svc.Generate(ctx, open(c.labels))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if !strings.Contains(p.Markdown, c.want) || strings.Contains(p.Markdown, c.not) {
				t.Errorf("%s: postmortem should list %s and not %s:\n%s", c.name, c.want, c.not, p.Markdown)
			}
		}
	})
}

func TestCloseSev3WritesNone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFlow(t, d)
		id := f.incidentWithHistory(t, "sev3")
		if _, err := f.svc.Store.ByIncident(context.Background(), id, f.clk.Now()); tandem.ErrorCode(err) != tandem.ENotFound {
			t.Errorf("sev3 got a postmortem (err %v)", err)
		}
		// A per-service setting brings sev3 in.
		f.mu.Lock()
		f.set.ServiceSeverity = map[string]string{"checkout": "sev3"}
		f.mu.Unlock()
		if !postmortem.Qualifies(f.set, "sev3", []string{"checkout"}) || postmortem.Qualifies(f.set, "sev4", []string{"checkout"}) {
			t.Error("per-service severity not applied")
		}
	})
}

// fakeGitHub is an httptest GitHub that checks every request as GitHub
// documents it and can fail the first create with a 502, after or before
// creating the issue.
type fakeGitHub struct {
	t           *testing.T
	mu          sync.Mutex
	posts       int
	issues      []map[string]any
	fail502     string // "after" or "before" creating, on the first POST
	srv         *httptest.Server
	wantTitle   string
	wantBodyHas string
}

func newFakeGitHub(t *testing.T, fail string) *fakeGitHub {
	g := &fakeGitHub{t: t, fail502: fail}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	t := g.t
	if got := r.Header.Get("Authorization"); got != "Bearer ghp_test" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
		t.Errorf("Accept = %q", got)
	}
	if got := r.Header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
		t.Errorf("X-GitHub-Api-Version = %q", got)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v3/repos/example/handbook/issues":
		g.posts++
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var body map[string]any
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		for k := range body {
			if k != "title" && k != "body" && k != "labels" {
				t.Errorf("unexpected body field %q", k)
			}
		}
		if body["title"] != g.wantTitle {
			t.Errorf("title = %v, want %q", body["title"], g.wantTitle)
		}
		if b, _ := body["body"].(string); !strings.Contains(b, g.wantBodyHas) {
			t.Errorf("body lacks %q", g.wantBodyHas)
		}
		if l, _ := body["labels"].([]any); len(l) != 1 || l[0] != "postmortem" {
			t.Errorf("labels = %v", body["labels"])
		}
		first := g.posts == 1
		if first && g.fail502 == "before" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		n := len(g.issues) + 1
		is := map[string]any{"number": n, "html_url": fmt.Sprintf("https://github.example/example/handbook/issues/%d", n), "title": body["title"], "body": body["body"]}
		g.issues = append(g.issues, is)
		if first && g.fail502 == "after" {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(is)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v3/repos/example/handbook/issues":
		if r.URL.Query().Get("state") != "all" || r.URL.Query().Get("since") == "" {
			t.Errorf("list query %s", r.URL.RawQuery)
		}
		out := []map[string]any{}
		for i := len(g.issues) - 1; i >= 0; i-- {
			out = append(out, g.issues[i])
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v3/repos/example/handbook/issues/"):
		_ = json.NewEncoder(w).Encode(map[string]any{"number": 1})
	default:
		t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestPublishGitHubOnce(t *testing.T) {
	for _, mode := range []string{"", "after", "before"} {
		t.Run("502-"+mode, func(t *testing.T) {
			d := dbtest.SQLite(t)
			f := newFlow(t, d)
			gh := newFakeGitHub(t, mode)
			dir := t.TempDir()
			f.set.Directory = dir
			f.set.GitHub = &postmortem.GitHub{BaseURL: gh.srv.URL + "/api/v3", Repo: "example/handbook", Token: "ghp_test", Labels: []string{"postmortem"}, HTTP: gh.srv.Client()}
			id := f.incidentWithHistory(t, "sev1")
			ctx := context.Background()
			p, err := f.svc.Store.ByIncident(ctx, id, f.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			gh.wantTitle = "Postmortem - Checkout returns 500 for card payments"
			gh.wantBodyHas = p.Markdown
			st := postmortem.Published
			if _, err := f.svc.Save(ctx, p.ID, postmortem.Update{Status: &st}); err != nil {
				t.Fatal(err)
			}
			f.walk(t, 0, time.Second)
			if mode != "" {
				// The first attempt failed: the job waits for its backoff.
				if got, _ := f.svc.Store.Get(ctx, p.ID, f.clk.Now()); got.GitHubIssue != 0 {
					t.Fatalf("issue recorded after a 502: %+v", got)
				}
				f.walk(t, 2*time.Minute, 10*time.Second)
			}
			got, err := f.svc.Store.Get(ctx, p.ID, f.clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			gh.mu.Lock()
			posts, issues := gh.posts, len(gh.issues)
			gh.mu.Unlock()
			wantPosts := 1
			if mode == "before" {
				wantPosts = 2 // the rejected one and the one that created it
			}
			if issues != 1 || posts != wantPosts {
				t.Errorf("issues created %d (want 1), POSTs %d (want %d)", issues, posts, wantPosts)
			}
			if got.GitHubIssue != 1 || got.GitHubIssueURL == "" || got.PublishedAt == nil || got.PublishedVersion != got.Version {
				t.Errorf("published = %+v", got)
			}
			b, err := os.ReadFile(got.FilePath)
			if err != nil || string(b) != got.Markdown || filepath.Dir(got.FilePath) != dir {
				t.Errorf("file %s: %v", got.FilePath, err)
			}
		})
	}
}

func TestRenderFailureStillWritesPostmortem(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFlow(t, d)
	tmpl, err := postmortem.ParseTemplate("payments.md", "# {{.Incident.Title}}\n{{.Incident.NoSuchField}}\n")
	if err != nil {
		t.Fatal(err)
	}
	f.set.Templates = postmortem.Templates{Team: map[string]*template.Template{"payments": tmpl}}
	var logs strings.Builder
	f.svc.Log = slog.New(slog.NewTextHandler(&logs, nil))
	id := f.incidentWithHistory(t, "sev1")
	p, err := f.svc.Store.ByIncident(context.Background(), id, f.clk.Now())
	if err != nil {
		t.Fatalf("no postmortem after a template failure: %v", err)
	}
	if p.RenderError == "" || !strings.Contains(p.RenderError, "payments.md:2") || !strings.HasPrefix(p.Markdown, "> **Template error:**") ||
		!strings.Contains(p.Markdown, "## Timeline (UTC)") {
		t.Errorf("render error %q, markdown:\n%s", p.RenderError, p.Markdown)
	}
	if !strings.Contains(logs.String(), "template failed") {
		t.Errorf("failure not logged: %s", logs.String())
	}
}

type recordingNotifier struct {
	mu    sync.Mutex
	items []int64
}

func (r *recordingNotifier) NotifyOwner(_ context.Context, it postmortem.ActionItem, title string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, it.ID)
	return nil
}

func TestOverdueReminders(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFlow(t, d)
	n := &recordingNotifier{}
	f.svc.Notifier = n
	ctx := context.Background()
	now := f.clk.Now()
	over, _ := f.svc.Store.AddItem(ctx, postmortem.NewItem{Title: "late", Owner: "bob", Due: now.AddDate(0, 0, -3).Format("2006-01-02")}, now)
	if _, err := f.svc.Store.AddItem(ctx, postmortem.NewItem{Title: "later", Owner: "bob", Due: now.AddDate(0, 0, 3).Format("2006-01-02")}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Store.AddItem(ctx, postmortem.NewItem{Title: "nobody's", Due: "2020-01-01"}, now); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // twice the same day: one reminder
		if _, err := f.svc.EnqueueReminders(ctx); err != nil {
			t.Fatal(err)
		}
		f.walk(t, 0, time.Second)
	}
	if len(n.items) != 1 || n.items[0] != over.ID {
		t.Errorf("reminded %v, want [%d]", n.items, over.ID)
	}
	got, _ := f.svc.Store.GetItem(ctx, over.ID, f.clk.Now())
	if got.NotifiedAt == nil {
		t.Error("notified_at not recorded")
	}
	f.clk.Advance(24 * time.Hour) // the next day: again
	if _, err := f.svc.EnqueueReminders(ctx); err != nil {
		t.Fatal(err)
	}
	f.walk(t, 0, time.Second)
	if len(n.items) != 2 {
		t.Errorf("reminders after a day: %v", n.items)
	}
}

// TestClosedGitHubIssueWritesPostmortem: an incident opened by a GitHub
// issue labelled sev1 gets its postmortem when the issue is closed.
func TestClosedGitHubIssueWritesPostmortem(t *testing.T) {
	d := dbtest.SQLite(t)
	f := newFlow(t, d)
	ctx := context.Background()
	event := func(action string) incident.GitHubAction {
		body := fmt.Sprintf(`{"action": %q, "issue": {"number": 12, "title": "Checkout is down", "body": "500s everywhere",
			"html_url": "https://github.com/example/checkout/issues/12", "state": "open",
			"labels": [{"name": "sev1"}, {"name": "service:checkout"}], "user": {"login": "carol"}, "created_at": "2026-11-20T08:55:00Z"},
			"repository": {"full_name": "example/checkout"}, "sender": {"login": "carol"}}`, action)
		a, err := incident.ParseGitHubIssue([]byte(body), "")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	inc, err := f.m.AlertGroup(ctx, event("opened").Group)
	if err != nil {
		t.Fatal(err)
	}
	f.walk(t, 30*time.Minute, time.Minute)
	if _, err := f.m.CloseGroup(ctx, "github", event("closed").Group.GroupKey, "github"); err != nil {
		t.Fatal(err)
	}
	f.walk(t, 0, time.Second)
	p, err := f.svc.Store.ByIncident(ctx, inc.ID, f.clk.Now())
	if err != nil {
		t.Fatalf("no postmortem after the GitHub issue closed: %v", err)
	}
	if p.Title != "Checkout is down" || !strings.Contains(p.Markdown, "| Severity | sev1 |") {
		t.Errorf("postmortem = %+v", p)
	}
}

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/change"
)

// lockedBuffer is a bytes.Buffer the server's log goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A signed ack/resolve link carries its token in the path; the request
// log names the route pattern, so the token never reaches the log. The
// same holds for a calendar feed's ?token=.
func TestRequestLogHasNoSecrets(t *testing.T) {
	var log lockedBuffer
	s := apptest.Start(t, apptest.Options{OpenAPI: true, LogTo: &log})
	secret := "v1.4242.ack.SECRETPATHTOKEN0123456789"
	for _, m := range []string{"GET", "POST"} {
		call(t, m, s.URL+"/api/v1/actions/"+secret, "", nil)
	}
	read := s.Token(t, "feed", auth.ScopeRead)
	call(t, "GET", s.URL+"/api/v1/schedules/sre-primary.ics?token="+read, "", nil)
	call(t, "GET", s.URL+"/api/v1/incidents/12345", s.AdminToken, nil)
	out := log.String()
	for _, leak := range []string{"SECRETPATHTOKEN", read, s.AdminToken} {
		if strings.Contains(out, leak) {
			t.Errorf("the log holds a secret (%.12s…):\n%s", leak, out)
		}
	}
	for _, want := range []string{"route=/api/v1/actions/{token}", "route=/api/v1/schedules/{name}", "route=/api/v1/incidents/{id}"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log has no %s:\n%s", want, out)
		}
	}
}

// ?token= authenticates only .ics feeds, and only with a read token: the
// schedule's JSON wants a Bearer header, and a write or admin token in a
// URL is refused.
func TestFeedTokenOnlyICSAndRead(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	read := s.Token(t, "cal", auth.ScopeRead)
	write := s.Token(t, "ci", auth.ScopeWrite)
	for _, tt := range []struct {
		path, query, bearer string
		want                int
	}{
		{"/api/v1/schedules/sre-primary.ics", "?token=" + read, "", 200},
		{"/api/v1/oncall/people/alice.ics", "?token=" + read, "", 200},
		{"/api/v1/schedules/sre-primary", "?token=" + read, "", 401},
		{"/api/v1/schedules/sre-primary", "?token=" + s.AdminToken, "", 401},
		{"/api/v1/schedules/sre-primary", "", read, 200},
		{"/api/v1/schedules/sre-primary", "", write, 200},
		{"/api/v1/schedules/sre-primary.ics", "?token=" + write, "", 403},
		{"/api/v1/schedules/sre-primary.ics", "?token=" + s.AdminToken, "", 403},
		{"/api/v1/oncall/people/alice.ics", "?token=" + s.AdminToken, "", 403},
		{"/api/v1/schedules/sre-primary.ics", "", write, 200},
		{"/api/v1/schedules/sre-primary.ics", "", "", 401},
	} {
		code, _, b := call(t, "GET", s.URL+tt.path+tt.query, tt.bearer, nil)
		if code != tt.want {
			t.Errorf("GET %s (query %t, bearer %t) = %d, want %d: %s", tt.path, tt.query != "", tt.bearer != "", code, tt.want, b)
		}
		if code >= 400 && apiError(t, b).Message == "" {
			t.Errorf("no message")
		}
	}
}

// Token names are 1 to 64 printable characters: no 200,000-character
// names, no NUL, no terminal escapes. Refused names create nothing.
func TestTokenNameLimits(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	for _, tt := range []struct {
		name string
		want int
	}{
		{strings.Repeat("a", 64), 201},
		{"deploy bot – prod (ci)", 201},
		{strings.Repeat("a", 65), 400},
		{strings.Repeat("x", 200000), 400},
		{"a\x00b", 400},
		{"\x1b[31mred\x1b[0m", 400},
		{"tab\tname", 400},
		{"line\nbreak", 400},
	} {
		body, _ := json.Marshal(map[string]string{"name": tt.name, "scope": "read"})
		code, _, b := call(t, "POST", s.URL+"/api/v1/admin/tokens", s.AdminToken, bytes.NewReader(body))
		if code != tt.want {
			t.Errorf("name %.20q (%d bytes): %d, want %d: %.200s", tt.name, len(tt.name), code, tt.want, b)
			continue
		}
		if code == 400 && apiError(t, b).Field != "name" {
			t.Errorf("name %.20q: error without the field: %s", tt.name, b)
		}
	}
	_, _, b := call(t, "GET", s.URL+"/api/v1/admin/tokens", s.AdminToken, nil)
	var list struct {
		Items []auth.Token `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		var plain []auth.Token
		if err := json.Unmarshal(b, &plain); err != nil {
			t.Fatalf("token list: %s", b)
		}
		list.Items = plain
	}
	if len(list.Items) != 3 { // the test's admin token and the two accepted
		t.Errorf("%d tokens stored, want 3: %.300s", len(list.Items), b)
	}
}

// An action item naming an incident that does not exist is 422 (as one
// naming an unknown postmortem is) and stores nothing; a real incident is
// accepted.
func TestActionItemUnknownIncident(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	code, _, b := call(t, "POST", s.URL+"/api/v1/incidents", s.AdminToken,
		strings.NewReader(`{"title":"checkout down","services":["checkout"],"severity":"sev4"}`))
	var inc struct {
		ID int64 `json:"id"`
	}
	if code != 201 || json.Unmarshal(b, &inc) != nil || inc.ID == 0 {
		t.Fatalf("declare: %d %s", code, b)
	}
	for _, id := range []int64{-1, inc.ID + 1000} {
		code, _, b := call(t, "POST", s.URL+"/api/v1/actions", s.AdminToken,
			strings.NewReader(fmt.Sprintf(`{"title":"add a canary","incident_id":%d}`, id)))
		if code != 422 || apiError(t, b).Field != "incident_id" {
			t.Errorf("incident_id %d: %d %s, want 422 on incident_id", id, code, b)
		}
	}
	code, _, b = call(t, "POST", s.URL+"/api/v1/actions", s.AdminToken,
		strings.NewReader(fmt.Sprintf(`{"title":"add a canary","incident_id":%d}`, inc.ID)))
	if code != 201 {
		t.Fatalf("real incident: %d %s", code, b)
	}
	code, _, b = call(t, "GET", s.URL+"/api/v1/actions", s.AdminToken, nil)
	if code != 200 || strings.Count(string(b), `"title":"add a canary"`) != 1 {
		t.Errorf("stored items: %d %s", code, b)
	}
}

// Both GitHub webhooks (deploys and commits; issues as incidents) accept a
// delivery signed with either secret of a "new,old" variable during a
// rotation, and refuse one signed with neither (or with the whole value).
func TestGitHubWebhookSecretRotation(t *testing.T) {
	const newSecret, oldSecret = "gh-webhook-secret-new", "gh-webhook-secret-old"
	t.Setenv("TEST_GH_CHANGES_SECRET", newSecret+", "+oldSecret)
	t.Setenv("TEST_GH_ISSUES_SECRET", newSecret+","+oldSecret)
	to := filepath.Join(t.TempDir(), "tandem.d")
	if err := os.CopyFS(to, os.DirFS(apptest.ExamplesDir(t))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, "change.yaml"), []byte("github:\n  webhook_secret_env: TEST_GH_CHANGES_SECRET\n  deploy_workflows: [Deploy]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inc, err := os.ReadFile(filepath.Join(to, "incidents.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inc = []byte(strings.Replace(string(inc), "incidents:\n", "incidents:\n  github_issues: {secret_env: TEST_GH_ISSUES_SECRET}\n", 1))
	if err := os.WriteFile(filepath.Join(to, "incidents.yaml"), inc, 0o644); err != nil {
		t.Fatal(err)
	}
	s := apptest.Start(t, apptest.Options{OpenAPI: true, ConfigDir: to})
	push, err := os.ReadFile("../change/testdata/github/push.json")
	if err != nil {
		t.Fatal(err)
	}
	issue := []byte(`{"action":"opened","issue":{"number":42,"title":"Checkout returns 500s","body":"Customers report errors.","html_url":"https://github.com/acme/shop/issues/42","state":"open","labels":[{"name":"sev2"},{"name":"service:checkout"}],"user":{"login":"jane"},"created_at":"2026-03-02T07:55:00Z"},"repository":{"full_name":"acme/shop"},"sender":{"login":"jane"}}`)
	for _, hook := range []struct {
		path, event string
		body        []byte
	}{{"/api/v1/webhooks/github", "push", push}, {"/api/v1/webhooks/github/issues", "issues", issue}} {
		for _, tt := range []struct {
			secret string
			want   int
		}{{newSecret, 200}, {oldSecret, 200}, {"gh-webhook-secret-wrong", 401}, {newSecret + ", " + oldSecret, 401}} {
			code, _, b := call(t, "POST", s.URL+hook.path, "", bytes.NewReader(hook.body),
				"X-GitHub-Event", hook.event, "X-Hub-Signature-256", change.Sign([]byte(tt.secret), hook.body))
			if code != tt.want {
				t.Errorf("%s signed with %q: %d %s, want %d", hook.path, tt.secret, code, b, tt.want)
			}
		}
	}
}

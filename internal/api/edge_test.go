package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
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
	s := apptest.Start(t, apptest.Options{LogTo: &log})
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
	s := apptest.Start(t, apptest.Options{})
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
	s := apptest.Start(t, apptest.Options{})
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
	s := apptest.Start(t, apptest.Options{})
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

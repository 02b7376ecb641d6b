package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
)

// call sends a request and returns the status and body.
func call(t *testing.T, method, url, token string, body io.Reader, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// apiError decodes the JSON error body; it fails the test when the body is
// not one.
func apiError(t *testing.T, b []byte) tandem.Error {
	t.Helper()
	var eb struct {
		Error *tandem.Error `json:"error"`
	}
	if err := json.Unmarshal(b, &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("not a JSON error body: %s", b)
	}
	return *eb.Error
}

func TestProbes(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	code, _, b := call(t, "GET", s.URL+"/healthz", "", nil)
	if code != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Errorf("healthz: %d %s", code, b)
	}
	code, _, b = call(t, "GET", s.URL+"/readyz", "", nil)
	if code != 200 || string(b) != `{"config":"ok","database":"ok"}`+"\n" {
		t.Errorf("readyz: %d %s", code, b)
	}
	// With the database gone, the server is not ready.
	s.Main.DB.Close()
	code, _, b = call(t, "GET", s.URL+"/readyz", "", nil)
	if code != 503 || !strings.Contains(string(b), `"database":"unreachable"`) {
		t.Errorf("readyz without a database: %d %s", code, b)
	}
}

func TestServicesNeedReadToken(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			s := apptest.Start(t, apptest.Options{OpenAPI: true, Postgres: pg})
			read := s.Token(t, "reader", auth.ScopeRead)
			code, hdr, b := call(t, "GET", s.URL+"/api/v1/services", "", nil)
			if code != 401 || apiError(t, b).Code != tandem.EUnauthorized || hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("no token: %d %s", code, b)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("401 Content-Type %q", ct)
			}
			code, _, b = call(t, "GET", s.URL+"/api/v1/services", "tdm_wrongwrongwrongwrong", nil)
			if code != 401 || apiError(t, b).Code != tandem.EUnauthorized {
				t.Errorf("wrong token: %d %s", code, b)
			}
			code, _, b = call(t, "GET", s.URL+"/api/v1/services", read, nil)
			var list struct {
				Items []struct {
					Name string `json:"name"`
				} `json:"items"`
				Count int `json:"count"`
			}
			n := len(s.Main.Config.Get().Catalog.Services)
			if code != 200 || json.Unmarshal(b, &list) != nil || n < 5 || list.Count != n || len(list.Items) != n || list.Items[0].Name != "checkout" {
				t.Errorf("read token: %d %s", code, b)
			}
			code, _, b = call(t, "GET", s.URL+"/api/v1/services?team=nobody", read, nil)
			if code != 200 || string(b) != `{"items":[],"count":0}`+"\n" {
				t.Errorf("empty filter: %d %s", code, b)
			}
			// Filters.
			code, _, b = call(t, "GET", s.URL+"/api/v1/services?team=platform&environment=production", read, nil)
			if code != 200 || json.Unmarshal(b, &list) != nil || list.Count != 2 {
				t.Errorf("filtered: %d %s", code, b)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	read := s.Token(t, "r", auth.ScopeRead)
	write := s.Token(t, "w", auth.ScopeWrite)
	tests := []struct {
		token  string
		method string
		path   string
		want   int
	}{
		{read, "GET", "/api/v1/teams", 200},
		{write, "GET", "/api/v1/teams", 200},         // write includes read
		{s.AdminToken, "GET", "/api/v1/people", 200}, // admin includes both
		{read, "POST", "/api/v1/admin/reload", 403},  // admin endpoint
		{write, "GET", "/api/v1/admin/tokens", 403},  // admin endpoint
		{s.AdminToken, "GET", "/api/v1/admin/tokens", 200},
	}
	for _, tt := range tests {
		code, _, b := call(t, tt.method, s.URL+tt.path, tt.token, nil)
		if code != tt.want {
			t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, code, b, tt.want)
		}
		if code == 403 && apiError(t, b).Code != tandem.EForbidden {
			t.Errorf("403 code %s", b)
		}
	}
	// A revoked token is refused at once.
	if err := s.Main.Tokens.Revoke(context.Background(), "r", s.Main.Options.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	code, _, b := call(t, "GET", s.URL+"/api/v1/teams", read, nil)
	if code != 401 {
		t.Errorf("revoked token: %d %s", code, b)
	}
}

func TestPublicRead(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true, PublicRead: true})
	code, _, b := call(t, "GET", s.URL+"/api/v1/services", "", nil)
	if code != 200 {
		t.Errorf("public read: %d %s", code, b)
	}
	// Writes and admin calls still need a token.
	code, _, b = call(t, "POST", s.URL+"/api/v1/admin/reload", "", nil)
	if code != 401 {
		t.Errorf("admin without token under public read: %d %s", code, b)
	}
	// Reads need no token here, so a token the server does not know does
	// not stop one: it is served as a public read and says the token was
	// not used. A write with it is refused.
	code, h, _ := call(t, "GET", s.URL+"/api/v1/services", "tdm_nonsense-nonsense", nil)
	if code != 200 || h.Get("X-Tandem-Token-Ignored") == "" {
		t.Errorf("bad token on a public read: %d, X-Tandem-Token-Ignored %q; want 200 and the header", code, h.Get("X-Tandem-Token-Ignored"))
	}
	code, _, _ = call(t, "POST", s.URL+"/api/v1/admin/reload", "tdm_nonsense-nonsense", nil)
	if code != 401 {
		t.Errorf("bad token on an admin call under public read: %d, want 401", code)
	}
}

func TestCatalogEndpoints(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true, PublicRead: true})
	tests := []struct {
		path, want string
		code       int
	}{
		{"/api/v1/services/checkout", `"team":"payments"`, 200},
		{"/api/v1/services/chekout", `did you mean checkout`, 404},
		{"/api/v1/teams/platform", `"services":["ci-runners","postgres-main"]`, 200},
		{"/api/v1/teams/nope", `"code":"not_found"`, 404},
		{"/api/v1/people/alice", `"email":"alice@example.com"`, 200},
		{"/api/v1/people/alic", `did you mean alice`, 404},
		{"/api/v1/tools", `"tool":"Auth0"`, 200},
		{"/api/v1/tools/terraform", `"primary_owner":{"name":"platform","kind":"team","display":"Platform","contact":"#team-platform"}`, 200},
		{"/api/v1/tools/nope", `"code":"not_found"`, 404},
		{"/api/v1/nothing-here", `no such endpoint: GET /api/v1/nothing-here`, 404},
		{"/api/v2/services", `"code":"not_found"`, 404},
	}
	for _, tt := range tests {
		code, hdr, b := call(t, "GET", s.URL+tt.path, "", nil)
		if code != tt.code || !strings.Contains(string(b), tt.want) || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s %s, want %d with %s", tt.path, code, hdr.Get("Content-Type"), b, tt.code, tt.want)
		}
	}
	// A known path with the wrong method is 405 with the methods it has.
	code, hdr, b := call(t, "DELETE", s.URL+"/api/v1/services/checkout", "", nil)
	if code != 405 || hdr.Get("Allow") != "GET" || !strings.Contains(string(b), `"code":"method_not_allowed"`) {
		t.Errorf("DELETE a service: %d Allow=%q %s, want 405 with Allow GET", code, hdr.Get("Allow"), b)
	}
	code, hdr, _ = call(t, "PUT", s.URL+"/api/v1/admin/tokens", "", nil)
	if code != 405 || hdr.Get("Allow") != "GET, POST" {
		t.Errorf("PUT tokens: %d Allow=%q, want 405 with Allow GET, POST", code, hdr.Get("Allow"))
	}
}

func TestMetrics(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true, PublicRead: true})
	call(t, "GET", s.URL+"/api/v1/services", "", nil)
	call(t, "GET", s.URL+"/api/v1/services/checkout", "", nil)
	call(t, "GET", s.URL+"/api/v1/services/payments-api", "", nil)
	call(t, "GET", s.URL+"/api/v1/nope", "", nil)
	code, _, b := call(t, "GET", s.URL+"/metrics", "", nil)
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	text := string(b)
	for _, want := range []string{
		"go_goroutines ", "go_memstats_alloc_bytes ", "process_cpu_seconds_total ",
		`tandem_http_requests_total{code="200",method="GET",route="/api/v1/services"} 1`,
		// Two requests on one route pattern are one series, not one per name.
		`tandem_http_requests_total{code="200",method="GET",route="/api/v1/services/{name}"} 2`,
		`tandem_http_requests_total{code="404",method="GET",route="/api/"} 1`,
		`tandem_http_request_duration_seconds_bucket{method="GET",route="/api/v1/services",le="0.005"}`,
		`tandem_http_request_duration_seconds_count{method="GET",route="/api/v1/services/{name}"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	url := s.URL + "/api/v1/admin/tokens"
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	tests := []struct {
		name  string
		body  io.Reader
		hdr   []string
		code  int
		err   string // code
		field string
		msg   string
	}{
		{"malformed", strings.NewReader(`{"name": "ci",`), nil, 400, "invalid", "", "malformed JSON"},
		{"syntax", strings.NewReader(`{"name" "ci"}`), nil, 400, "invalid", "", "malformed JSON at byte 9"},
		{"unknown field", strings.NewReader(`{"name":"ci","scope":"read","scop":"x"}`), nil, 400, "invalid", "scop", `unknown field "scop"`},
		{"wrong type", strings.NewReader(`{"name":7,"scope":"read"}`), nil, 400, "invalid", "name", `wrong type for "name": got JSON number, want a string`},
		{"array body", strings.NewReader(`[1]`), nil, 400, "invalid", "", "wrong type for the body: got JSON array, want an object"},
		{"two values", strings.NewReader(`{"name":"a","scope":"read"} {}`), nil, 400, "invalid", "", "single JSON value"},
		{"empty", strings.NewReader(``), nil, 400, "invalid", "", "empty"},
		{"content type", strings.NewReader(`{}`), []string{"Content-Type", "text/plain"}, 400, "invalid", "Content-Type", "application/json"},
		{"bad scope", strings.NewReader(`{"name":"x","scope":"root"}`), nil, 400, "invalid", "scope", `unknown scope "root"`},
		{"no name", strings.NewReader(`{"scope":"read"}`), nil, 400, "invalid", "name", "required"},
		// Content-Length over the limit: refused before reading.
		{"too large", bytes.NewReader(big), nil, 413, "too_large", "", "larger than 1048576 bytes"},
		// No Content-Length (chunked): cut off while reading.
		{"too large chunked", io.MultiReader(strings.NewReader(`{"name":"`), bytes.NewReader(big)), nil, 413, "too_large", "", "larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, b := call(t, "POST", url, s.AdminToken, tt.body, tt.hdr...)
			if code != tt.code {
				t.Fatalf("status %d %s, want %d", code, b, tt.code)
			}
			e := apiError(t, b)
			if e.Code != tt.err || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %+v, want code %s field %q message with %q", e, tt.err, tt.field, tt.msg)
			}
		})
	}
}

func TestTokenEndpoints(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	code, _, b := call(t, "POST", s.URL+"/api/v1/admin/tokens", s.AdminToken, strings.NewReader(`{"name":"ci","scope":"write"}`), "Content-Type", "application/json; charset=utf-8")
	var created struct {
		Name   string `json:"name"`
		Scope  string `json:"scope"`
		Token  string `json:"token"`
		Prefix string `json:"prefix"`
	}
	if code != 201 || json.Unmarshal(b, &created) != nil || created.Scope != "write" || !strings.HasPrefix(created.Token, created.Prefix) {
		t.Fatalf("create: %d %s", code, b)
	}
	code, _, b = call(t, "POST", s.URL+"/api/v1/admin/tokens", s.AdminToken, strings.NewReader(`{"name":"ci","scope":"read"}`))
	if code != 409 || apiError(t, b).Field != "name" {
		t.Errorf("duplicate name: %d %s", code, b)
	}
	if code, _, b := call(t, "GET", s.URL+"/api/v1/services", created.Token, nil); code != 200 {
		t.Errorf("new token: %d %s", code, b)
	}
	code, _, b = call(t, "GET", s.URL+"/api/v1/admin/tokens", s.AdminToken, nil)
	if code != 200 || strings.Contains(string(b), created.Token) || strings.Contains(string(b), "hash") {
		t.Errorf("list must never show secrets or hashes: %s", b)
	}
	if code, _, b := call(t, "DELETE", s.URL+"/api/v1/admin/tokens/ci", s.AdminToken, nil); code != 204 {
		t.Errorf("revoke: %d %s", code, b)
	}
	if code, _, _ := call(t, "GET", s.URL+"/api/v1/services", created.Token, nil); code != 401 {
		t.Errorf("revoked token: %d", code)
	}
	if code, _, b := call(t, "DELETE", s.URL+"/api/v1/admin/tokens/nope", s.AdminToken, nil); code != 404 {
		t.Errorf("revoke unknown: %d %s", code, b)
	}
}

func TestReload(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true})
	dir := s.Main.Options.ConfigDir // apptest serves a copy of the examples
	add := "services:\n  - {name: ledger, team: payments, tier: 2}\n"
	if err := os.WriteFile(filepath.Join(dir, "more.yaml"), []byte(add), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, b := call(t, "POST", s.URL+"/api/v1/admin/reload", s.AdminToken, nil)
	if code != 200 || !strings.Contains(string(b), fmt.Sprintf(`"services":%d`, len(s.Main.Config.Get().Catalog.Services))) {
		t.Fatalf("valid reload: %d %s", code, b)
	}
	if code, _, _ := call(t, "GET", s.URL+"/api/v1/services/ledger", s.AdminToken, nil); code != 200 {
		t.Errorf("the reloaded service is not served: %d", code)
	}
	// The (cached) list follows the reload.
	if _, _, b := call(t, "GET", s.URL+"/api/v1/services", s.AdminToken, nil); !strings.Contains(string(b), `"name":"ledger"`) {
		t.Errorf("the list after reload lacks the new service: %s", b)
	}
	broken := "services:\n  - {name: ledger2, team: paymnts}\n  - {name: x, team: payments, colour: red}\n"
	os.WriteFile(filepath.Join(dir, "more.yaml"), []byte(broken), 0o644)
	code, _, b = call(t, "POST", s.URL+"/api/v1/admin/reload", s.AdminToken, nil)
	e := apiError(t, b)
	if code != 400 || e.Code != "invalid" || len(e.Details) != 2 ||
		!strings.Contains(e.Details[0], "/tandem.d/more.yaml:2:") || !strings.Contains(e.Details[0], `did you mean "payments"`) ||
		!strings.Contains(e.Details[1], "/tandem.d/more.yaml:3:") || !strings.Contains(e.Details[1], `unknown field "colour"`) {
		t.Errorf("invalid reload: %d %s", code, b)
	}
	// The previous config keeps serving.
	if code, _, _ := call(t, "GET", s.URL+"/api/v1/services/ledger", s.AdminToken, nil); code != 200 {
		t.Errorf("after a rejected reload the old config must serve: %d", code)
	}
	// The client sees the same error.
	err := s.Client.Reload(context.Background())
	var te *tandem.Error
	if !asError(err, &te) || te.Code != "invalid" || len(te.Details) != 2 {
		t.Errorf("client: %#v", err)
	}
}

func asError(err error, target **tandem.Error) bool {
	e, ok := err.(*tandem.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestRequestID(t *testing.T) {
	s := apptest.Start(t, apptest.Options{OpenAPI: true, PublicRead: true})
	_, hdr, _ := call(t, "GET", s.URL+"/api/v1/teams", "", nil, "X-Request-Id", "abc-123")
	if hdr.Get("X-Request-Id") != "abc-123" {
		t.Errorf("a plain request id is kept: %q", hdr.Get("X-Request-Id"))
	}
	_, hdr, _ = call(t, "GET", s.URL+"/api/v1/teams", "", nil, "X-Request-Id", "evil\"value with spaces")
	if id := hdr.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("an odd request id must be replaced: %q", id)
	}
}

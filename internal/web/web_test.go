package web

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func testCatalog() *catalog.Catalog {
	return catalog.New(
		[]catalog.Team{{Name: "payments"}, {Name: "search"}},
		nil,
		[]catalog.Service{
			{Name: "checkout", Team: "payments", Tier: 1, Environments: []string{"production", "staging"}},
			{Name: "search-api", Team: "search", Tier: 2},
		}, nil)
}

// testServer is a dashboard on a fresh database behind httptest.
type testServer struct {
	*httptest.Server
	h      *Handler
	tokens *auth.Store
	clock  *clock.Fake
}

func newTestServer(t *testing.T, d *db.DB, deps Deps) *testServer {
	t.Helper()
	c := clock.NewFake(testNow)
	deps.Config = config.NewHolder(&config.Config{LoadedAt: testNow, Catalog: testCatalog()})
	deps.DB, deps.Clock = d, c
	deps.Tokens = &auth.Store{DB: d}
	deps.Log = slog.New(slog.DiscardHandler)
	h := New(deps)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, h: h, tokens: deps.Tokens, clock: c}
}

func (s *testServer) token(t *testing.T, name string, scope auth.Scope) string {
	t.Helper()
	_, secret, err := s.tokens.Create(context.Background(), name, scope, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// browserClient keeps cookies and does not follow redirects.
func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// post sends a form as a browser on origin would.
func post(t *testing.T, c *http.Client, u, origin string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfIn(t *testing.T, page string) string {
	t.Helper()
	m := hiddenCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// signIn goes through /login with secret and returns the client.
func signIn(t *testing.T, s *testServer, secret string) *http.Client {
	t.Helper()
	c := browserClient(t)
	_, page := get(t, c, s.URL+"/login")
	res, body := post(t, c, s.URL+"/login", s.URL, url.Values{"csrf": {csrfIn(t, page)}, "token": {secret}, "next": {"/"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: status %d\n%s", res.StatusCode, body)
	}
	return c
}

func TestSignInSessionsAndCSRF(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newTestServer(t, d, Deps{PublicRead: false})
		writer := s.token(t, "alice", auth.ScopeWrite)

		// Without public reads, pages send the browser to sign in first.
		c := browserClient(t)
		res, _ := get(t, c, s.URL+"/?team=payments")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2F%3Fteam%3Dpayments" {
			t.Fatalf("anonymous overview: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}

		// The login form comes with a double-submit cookie.
		res, page := get(t, c, s.URL+"/login")
		loginCSRF := csrfIn(t, page)
		var lc *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == loginCookie {
				lc = ck
			}
		}
		if lc == nil || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode || lc.Value != loginCSRF {
			t.Fatalf("login cookie %+v", lc)
		}

		// Another site posting the form is refused, even with the field.
		res, _ = post(t, c, s.URL+"/login", "https://evil.example", url.Values{"csrf": {loginCSRF}, "token": {writer}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin login: status %d, want 403", res.StatusCode)
		}
		// A wrong token asks again, without a session.
		res, body := post(t, c, s.URL+"/login", s.URL, url.Values{"csrf": {loginCSRF}, "token": {"tdm_wrong"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
			t.Fatalf("wrong token: status %d\n%s", res.StatusCode, body)
		}
		// The right one opens a session and goes where it was asked to.
		_, page = get(t, c, s.URL+"/login")
		res, _ = post(t, c, s.URL+"/login", s.URL, url.Values{"csrf": {csrfIn(t, page)}, "token": {writer}, "next": {"/?team=payments"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?team=payments" {
			t.Fatalf("login: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		var sc *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == sessionCookie {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure {
			t.Fatalf("session cookie %+v (plain HTTP: not Secure)", sc)
		}
		res, body = get(t, c, s.URL+"/")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "alice") {
			t.Fatalf("signed-in overview: status %d", res.StatusCode)
		}

		// Logging out needs the session's CSRF token.
		res, _ = post(t, c, s.URL+"/logout", s.URL, url.Values{"csrf": {"forged"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("logout with a forged token: status %d, want 403", res.StatusCode)
		}
		res, _ = post(t, c, s.URL+"/logout", s.URL, url.Values{"csrf": {csrfIn(t, body)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: status %d", res.StatusCode)
		}
		if res, _ = get(t, c, s.URL+"/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("after logout the overview answers %d, want a redirect to sign in", res.StatusCode)
		}
		// The old cookie is dead on the server too, not only in the jar.
		if _, ok, _ := s.h.sessions.lookup(context.Background(), sc.Value, testNow); ok {
			t.Fatal("session still valid after logout")
		}

		// Revoking the token ends its sessions at once.
		c2 := signIn(t, s, writer)
		if err := s.tokens.Revoke(context.Background(), "alice", testNow); err != nil {
			t.Fatal(err)
		}
		if res, _ = get(t, c2, s.URL+"/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoked token's session: status %d, want a redirect to sign in", res.StatusCode)
		}

		// Sessions expire.
		c3 := signIn(t, s, s.token(t, "bob", auth.ScopeRead))
		s.clock.Advance(SessionTTL + time.Minute)
		if res, _ = get(t, c3, s.URL+"/"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("expired session: status %d", res.StatusCode)
		}
	})
}

func TestSecureCookieBehindTLS(t *testing.T) {
	s := newTestServer(t, dbtest.SQLite(t), Deps{})
	secret := s.token(t, "alice", auth.ScopeRead)
	c := browserClient(t)
	_, page := get(t, c, s.URL+"/login")
	req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(url.Values{"csrf": {csrfIn(t, page)}, "token": {secret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.URL)
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie && !ck.Secure {
			t.Fatal("session cookie over TLS is not Secure")
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/",
		"/incidents?status=1":  "/incidents?status=1",
		"//evil.example/x":     "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"incidents":            "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGzipAndPageSize(t *testing.T) {
	s := newTestServer(t, dbtest.SQLite(t), Deps{PublicRead: true})
	for _, path := range []string{"/", "/static/tandem.css", "/static/tandem.js"} {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding %q, want gzip", path, res.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || len(plain) == 0 {
			t.Fatalf("%s: gunzip: %v", path, err)
		}
		if len(raw) > 300<<10 {
			t.Errorf("%s: %d bytes over the wire, want under 300 KB", path, len(raw))
		}
	}
	// Without Accept-Encoding the page comes plain.
	res, body := get(t, http.DefaultClient, s.URL+"/")
	if res.Header.Get("Content-Encoding") != "" || !strings.Contains(body, "<h1>Overview</h1>") {
		t.Fatalf("plain response: %q", res.Header.Get("Content-Encoding"))
	}
}

func TestErrorsAreReadablePages(t *testing.T) {
	s := newTestServer(t, dbtest.SQLite(t), Deps{PublicRead: true})
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/?tier=x", 400, "tier"},
		{"/?status=sideways", 400, "status"},
		{"/no/such/page", 404, "no page at /no/such/page"},
		{"/incidents", 503, "incidents are not available"},
	}
	for _, tt := range tests {
		res, body := get(t, http.DefaultClient, s.URL+tt.path)
		if res.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s: status %d, want %d with %q\n%s", tt.path, res.StatusCode, tt.status, tt.want, body)
		}
	}
}

func TestActionsNeedWriteScopeAndCSRF(t *testing.T) {
	s := newTestServer(t, dbtest.SQLite(t), Deps{PublicRead: true})
	// Anonymous: unauthorized.
	res, _ := post(t, browserClient(t), s.URL+"/incidents/1/ack", s.URL, nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous ack: %d", res.StatusCode)
	}
	// A read token's session: forbidden, with or without the CSRF token.
	c := signIn(t, s, s.token(t, "reader", auth.ScopeRead))
	_, page := get(t, c, s.URL+"/")
	tok := csrfIn(t, page)
	if res, _ = post(t, c, s.URL+"/incidents/1/ack", s.URL, url.Values{"csrf": {tok}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("read-scope ack: %d", res.StatusCode)
	}
	// A write token's session without the CSRF token, or from elsewhere.
	w := signIn(t, s, s.token(t, "writer", auth.ScopeWrite))
	_, page = get(t, w, s.URL+"/")
	tok = csrfIn(t, page)
	if res, _ = post(t, w, s.URL+"/incidents/1/ack", s.URL, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("ack without CSRF: %d", res.StatusCode)
	}
	if res, _ = post(t, w, s.URL+"/incidents/1/ack", "https://evil.example", url.Values{"csrf": {tok}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin ack: %d", res.StatusCode)
	}
	if res, _ = post(t, w, s.URL+"/incidents/1/ack", "", url.Values{"csrf": {tok}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("ack with neither Origin nor Referer: %d", res.StatusCode)
	}
	// With both, it reaches the capability (not wired here: 503).
	if res, _ = post(t, w, s.URL+"/incidents/1/ack", s.URL, url.Values{"csrf": {tok}}); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ack: %d, want 503 from the unwired capability", res.StatusCode)
	}
}

func TestOverviewFilterAndOrder(t *testing.T) {
	nan := math.NaN()
	row := func(name, team string, tier int, status string, remaining float64, incidents int) overviewRow {
		r := overviewRow{Service: catalog.Service{Name: name, Team: team, Tier: tier}, Status: status, Remaining: remaining}
		for i := 0; i < incidents; i++ {
			r.Incidents = append(r.Incidents, incidentRef{ID: int64(i)})
		}
		return r
	}
	rows := []overviewRow{
		row("a", "t1", 1, "healthy", 0.9, 0),
		row("b", "t1", 2, "exhausted", -0.2, 0),
		row("c", "t2", 1, "warning", 0.3, 0),
		row("d", "t2", 1, "warning", 0.2, 0),
		row("e", "t2", 3, "no_slo", nan, 0),
		row("f", "t1", 1, "healthy", 0.9, 2),
		row("g", "t1", 1, "no_data", nan, 0),
	}
	sortWorstFirst(rows)
	var got []string
	for _, r := range rows {
		got = append(got, r.Service.Name)
	}
	// exhausted b; warnings by remaining d (0.2) then c (0.3); healthy with
	// equal budget: f (2 incidents) before a; then no data g; then no SLO e.
	if want := "b d c f a g e"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	f, err := parseOverviewFilter(url.Values{"team": {"t1"}, "tier": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range rows {
		if f.keep(r) {
			got = append(got, r.Service.Name)
		}
	}
	if want := "f a g"; strings.Join(got, " ") != want {
		t.Errorf("team=t1&tier=1 keeps %v, want %s", got, want)
	}
}

func TestParseRange(t *testing.T) {
	now := testNow
	tests := []struct {
		q        string
		from, to time.Time
		field    string
	}{
		{"", now.Add(-7 * 24 * time.Hour), now, ""},
		{"range=24h", now.Add(-24 * time.Hour), now, ""},
		{"from=2026-11-01&to=2026-11-08", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC), ""},
		{"from=2d", now.Add(-48 * time.Hour), now, ""},
		{"range=banana", time.Time{}, time.Time{}, "range"},
		{"range=1m", time.Time{}, time.Time{}, "range"},
		{"range=500d", time.Time{}, time.Time{}, "range"},
		{"from=2026-11-08&to=2026-11-01", time.Time{}, time.Time{}, "from"},
		{"to=never", time.Time{}, time.Time{}, "to"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.q)
		tr, err := parseRange(q, now, "7d")
		if tt.field != "" {
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("%q: error %v, want one naming %s", tt.q, err, tt.field)
			}
			continue
		}
		if err != nil || !tr.From.Equal(tt.from) || !tr.To.Equal(tt.to) {
			t.Errorf("%q: %v – %v, %v; want %v – %v", tt.q, tr.From, tr.To, err, tt.from, tt.to)
		}
	}
}

func TestRangeKeptAcrossPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newTestServer(t, d, Deps{PublicRead: true, Incidents: newIncidents(t, d)})
		_, body := get(t, http.DefaultClient, s.URL+"/incidents?range=7d&status=open")
		for _, want := range []string{
			`href="/delivery?range=7d"`, `href="/?range=7d"`, // the navigation keeps the range
			`<form method="get" action="/incidents" class="range-form"`, // a custom range without script
			`<input type="hidden" name="status" value="open">`,          // which keeps the filters
		} {
			if !strings.Contains(body, want) {
				t.Errorf("incident list lacks %q", want)
			}
		}
		// The custom form's datetime-local values are read as UTC.
		_, body = get(t, http.DefaultClient, s.URL+"/incidents?from=2026-11-20T10:00&to=2026-11-22T10:00")
		if !strings.Contains(body, "Nov 20 10:00 UTC – Nov 22 10:00 UTC") || !strings.Contains(body, `href="/delivery?from=2026-11-20T10%3A00%3A00Z&amp;to=2026-11-22T10%3A00%3A00Z"`) {
			t.Errorf("a custom range is not labelled or kept")
		}
		// A bad range is carried nowhere.
		if _, body := get(t, http.DefaultClient, s.URL+"/oncall?range=zz"); strings.Contains(body, "range=zz") && strings.Contains(body, `href="/delivery?range=zz"`) {
			t.Errorf("a bad range is carried by the navigation")
		}
	})
}

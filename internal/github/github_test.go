package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A request carries the headers GitHub's REST API documents, its JSON
// body, and the answer is decoded; Link pages are followed by Next.
func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, want := range map[string]string{
			"Accept": "application/vnd.github+json", "X-Github-Api-Version": "2022-11-28",
			"Authorization": "Bearer ghp_x", "Content-Type": "application/json", "User-Agent": "tandem",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/api/v3/repos/o/r/issues" || string(b) != `{"title":"t"}` {
			t.Errorf("request %s %s %s", r.Method, r.URL.Path, b)
		}
		w.Header().Set("Link", `<https://api.example/x?page=2>; rel="next", <https://api.example/x?page=9>; rel="last"`)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"number": 7}`))
	}))
	defer srv.Close()
	p, err := RepoPath("o/x/r")
	if err == nil {
		t.Fatalf("RepoPath(o/x/r) = %q, want an error", p)
	}
	c := &Client{BaseURL: srv.URL + "/api/v3/", Token: "ghp_x", HTTP: srv.Client()}
	var out struct{ Number int }
	h, err := c.Do(context.Background(), http.MethodPost, c.URL("/repos/o/r/issues"), map[string]string{"title": "t"}, &out)
	if err != nil || out.Number != 7 {
		t.Fatalf("Do: %v %+v", err, out)
	}
	if n := Next(h); n != "https://api.example/x?page=2" {
		t.Errorf("Next = %q", n)
	}
	if n := Next(http.Header{"Link": {`<https://api.example/x?page=1>; rel="prev"`}}); n != "" {
		t.Errorf("Next on the last page = %q", n)
	}
	if p, err := RepoPath("tandem hq/hand book"); err != nil || p != "/repos/tandem%20hq/hand%20book" {
		t.Errorf("RepoPath = %q, %v", p, err)
	}
	if c := (&Client{}); c.URL("/x") != "https://api.github.com/x" {
		t.Errorf("default URL %q", c.URL("/x"))
	}
}

// Failures say whether a retry may help: 5xx, 429, a rate-limited 403 and
// no answer at all may; 404, 401, 422 and a plain 403 will not.
func TestErrors(t *testing.T) {
	tests := []struct {
		status    int
		remaining string
		retryable bool
	}{
		{http.StatusNotFound, "", false},
		{http.StatusUnauthorized, "", false},
		{http.StatusUnprocessableEntity, "", false},
		{http.StatusForbidden, "12", false},
		{http.StatusForbidden, "0", true},
		{http.StatusTooManyRequests, "", true},
		{http.StatusBadGateway, "", true},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tt.remaining != "" {
				w.Header().Set("X-RateLimit-Remaining", tt.remaining)
			}
			w.WriteHeader(tt.status)
			_, _ = w.Write([]byte(`{"message": "nope"}`))
		}))
		c := &Client{BaseURL: srv.URL, HTTP: srv.Client()}
		_, err := c.Do(context.Background(), http.MethodGet, c.URL("/x"), nil, nil)
		srv.Close()
		var ge *Error
		if !errors.As(err, &ge) || ge.Status != tt.status || ge.Retryable != tt.retryable || ge.Message != "nope" {
			t.Errorf("HTTP %d (remaining %q): %#v, want retryable %v", tt.status, tt.remaining, err, tt.retryable)
		}
	}
	// No answer: the server is gone.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c := &Client{BaseURL: srv.URL}
	_, err := c.Do(context.Background(), http.MethodGet, c.URL("/x"), nil, nil)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 0 || !ge.Retryable || strings.Contains(ge.Message, "Get ") {
		t.Errorf("unreachable: %#v", err)
	}
}

// FuzzNext: any Link header gives a URL or "", never a panic.
func FuzzNext(f *testing.F) {
	f.Add(`<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"`)
	f.Add(`<>; rel="next"`)
	f.Add(`rel="next"`)
	f.Fuzz(func(t *testing.T, link string) {
		n := Next(http.Header{"Link": {link}})
		if strings.ContainsAny(n, "<>") {
			t.Fatalf("Next(%q) = %q", link, n)
		}
	})
}

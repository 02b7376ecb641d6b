package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
)

func code(err error) *tandem.Error {
	var e *tandem.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// The client turns the server's JSON errors back into *tandem.Error with the
// same code, message and field.
func TestErrorRoundTrip(t *testing.T) {
	s := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	svcs, err := s.Client.Services(ctx)
	if err != nil || len(svcs) == 0 {
		t.Fatalf("Services: %v %v", svcs, err)
	}
	if teams, err := s.Client.Teams(ctx); err != nil || len(teams) == 0 {
		t.Errorf("Teams: %v", err)
	}
	if people, err := s.Client.People(ctx); err != nil || len(people) == 0 {
		t.Errorf("People: %v", err)
	}
	if tools, err := s.Client.Tools(ctx); err != nil || len(tools) == 0 {
		t.Errorf("Tools: %v", err)
	}
	if svc, err := s.Client.Service(ctx, "checkout"); err != nil || svc.Team != "payments" {
		t.Errorf("Service: %+v %v", svc, err)
	}

	_, err = s.Client.Service(ctx, "chekout")
	if e := code(err); e == nil || e.Code != tandem.ENotFound || !strings.Contains(e.Message, "did you mean checkout") {
		t.Errorf("unknown service: %#v", err)
	}
	err = s.Client.Do(ctx, "POST", "/api/v1/admin/tokens", nil, map[string]string{"name": "x", "scope": "read", "scop": "y"}, nil)
	if e := code(err); e == nil || e.Code != tandem.EInvalid || e.Field != "scop" {
		t.Errorf("unknown field: %#v", err)
	}
	anon, _ := client.New(s.URL, "")
	_, err = anon.Services(ctx)
	if e := code(err); e == nil || e.Code != tandem.EUnauthorized {
		t.Errorf("no token: %#v", err)
	}
	var raw bytes.Buffer
	if err := s.Client.Do(ctx, "GET", "/api/v1/teams", nil, nil, &raw); err != nil || !strings.HasPrefix(raw.String(), `{"items":[`) {
		t.Errorf("raw body into an io.Writer: %v %s", err, raw.String())
	}
}

func TestUnreachable(t *testing.T) {
	c, err := client.New("http://127.0.0.1:1", "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Services(context.Background())
	if e := code(err); e == nil || e.Code != tandem.EUnavailable || !strings.Contains(e.Message, "cannot reach tandem at http://127.0.0.1:1") {
		t.Errorf("unreachable: %#v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Services(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// Answers that are not tandem's JSON errors (a proxy in between) still
// become *tandem.Error.
func TestForeignErrors(t *testing.T) {
	status := http.StatusBadGateway
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" || r.Header.Get("User-Agent") != "ci/1" {
			t.Errorf("headers: %v", r.Header)
		}
		w.WriteHeader(status)
		w.Write([]byte("<html>bad gateway</html>"))
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL+"/", "secret", client.WithUserAgent("ci/1"))
	_, err := c.Services(context.Background())
	if e := code(err); e == nil || e.Code != tandem.EUnavailable || !strings.Contains(e.Message, "HTTP 502") {
		t.Errorf("502: %#v", err)
	}
	status = http.StatusTeapot
	_, err = c.Services(context.Background())
	if e := code(err); e == nil || e.Code != tandem.EInternal {
		t.Errorf("418: %#v", err)
	}
}

func TestNewChecksURL(t *testing.T) {
	for _, u := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := client.New(u, ""); code(err) == nil || code(err).Code != tandem.EInvalid {
			t.Errorf("New(%q) = %v, want an invalid error", u, err)
		}
	}
	if _, err := client.New("https://tandem.example.com/base/", ""); err != nil {
		t.Errorf("a base path is fine: %v", err)
	}
}

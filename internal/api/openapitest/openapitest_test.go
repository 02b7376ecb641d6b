package openapitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/api/openapitest"
)

func TestLoad(t *testing.T) {
	doc, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		t.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	t.Logf("%d operations", len(openapitest.Routes(doc)))
}

// TestCompareFindsDrift checks the comparison the route test relies on
// sees a route missing from either side.
func TestCompareFindsDrift(t *testing.T) {
	registered := []string{"GET /a", "POST /a", "GET /b/{name}"}
	described := []string{"GET /a", "GET /b/{id}", "DELETE /c"}
	und, unreg := openapitest.Compare(registered, described)
	if !slices.Equal(und, []string{"POST /a"}) || !slices.Equal(unreg, []string{"DELETE /c"}) {
		t.Errorf("Compare: undescribed %v, unregistered %v; want [POST /a] and [DELETE /c]", und, unreg)
	}
	// Path parameters match whatever their names; the methods must match.
	if und, unreg := openapitest.Compare([]string{"GET /b/{token}", "PATCH /b/{id}"}, []string{"GET /b/{id}", "PATCH /b/{id}"}); und != nil || unreg != nil {
		t.Errorf("Compare with renamed parameters: %v %v", und, unreg)
	}
	if und, unreg := openapitest.Compare(described, described); und != nil || unreg != nil {
		t.Errorf("Compare of equal lists: %v %v", und, unreg)
	}
}

// recordingTB keeps what Errorf reports instead of failing the test.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestMiddlewareFindsMismatches checks the middleware reports traffic the
// description does not allow, and passes traffic it does.
func TestMiddlewareFindsMismatches(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		answer                   string
		want                     string // part of the reported error; "" for none
	}{
		{"described answer", "GET", "/api/v1/teams", "", 200, `{"items":[{"name":"a","members":[]}],"count":1}`, ""},
		{"described error", "GET", "/api/v1/teams/nope", "", 404, `{"error":{"code":"not_found","message":"no team named nope"}}`, ""},
		{"answer of the wrong type", "GET", "/api/v1/teams", "", 200, `{"items":"a","count":1}`, "does not describe"},
		{"answer missing a required field", "GET", "/api/v1/teams", "", 200, `{"items":[]}`, "does not describe"},
		{"undescribed status", "GET", "/api/v1/teams", "", 201, `{"items":[],"count":0}`, "does not describe"},
		{"error of another shape", "GET", "/api/v1/teams/nope", "", 404, `{"message":"no"}`, "does not describe"},
		{"bad request refused", "POST", "/api/v1/admin/tokens", `{"nme":"x"}`, 400, `{"error":{"code":"invalid","message":"unknown field \"nme\"","field":"nme"}}`, ""},
		{"bad request accepted", "POST", "/api/v1/admin/tokens", `{"nme":"x"}`, 201,
			`{"id":1,"name":"x","scope":"read","prefix":"tdm_abcdef","created_at":"2026-01-01T00:00:00Z","token":"tdm_x"}`, "does not match"},
		{"unknown API path answered as an error", "GET", "/api/v1/nothing", "", 404, `{"error":{"code":"not_found","message":"no such endpoint"}}`, ""},
		{"unknown API path answered", "GET", "/api/v1/nothing", "", 200, `{}`, "matches no operation"},
		{"dashboard page", "GET", "/incidents", "", 200, `<html></html>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			h := openapitest.Middleware(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(tt.answer, "<") {
					w.Header().Set("Content-Type", "text/html")
				} else {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer tdm_test")
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			got := strings.Join(rec.errs, "\n")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("reported %q; want %q", got, tt.want)
			}
		})
	}
}

// Package openapitest checks HTTP traffic against docs/openapi.yaml: a
// middleware for test servers that validates every request and response
// with kin-openapi's openapi3filter, and the comparison of the routes a
// server registers with the routes the description has.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/tandemhq/tandem/docs"
)

// Load parses and validates docs/openapi.yaml as the binary embeds it.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load docs/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	router   routers.Router
	loadErr  error
)

func shared() (*openapi3.T, routers.Router, error) {
	loadOnce.Do(func() {
		// The non-JSON media types the API answers with are read as text.
		for _, ct := range []string{"text/calendar", "text/html", "text/markdown", "text/xml", "application/openmetrics-text"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		loaded, loadErr = Load()
		if loadErr == nil {
			router, loadErr = gorillamux.NewRouter(loaded)
		}
	})
	return loaded, router, loadErr
}

// Routes lists the operations the description has, as Go ServeMux
// patterns: "GET /api/v1/services/{name}".
func Routes(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Compare returns the registered routes the description lacks, and the
// described routes the server does not register. Both lists are sorted.
// Path parameters match whatever their names: the mux serves
// "GET /api/v1/actions/{token}" and "PATCH /api/v1/actions/{id}" side by
// side, where OpenAPI needs one template for the path.
func Compare(registered, described []string) (undescribed, unregistered []string) {
	has := func(list []string, route string) bool {
		return slices.ContainsFunc(list, func(r string) bool { return routeKey(r) == routeKey(route) })
	}
	for _, r := range registered {
		if !has(described, r) {
			undescribed = append(undescribed, r)
		}
	}
	for _, d := range described {
		if !has(registered, d) {
			unregistered = append(unregistered, d)
		}
	}
	slices.Sort(undescribed)
	slices.Sort(unregistered)
	return undescribed, unregistered
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// routeKey is a route with its path parameters unnamed.
func routeKey(route string) string { return wildcard.ReplaceAllString(route, "{}") }

// Counts is how much traffic a Validator has checked.
type Counts struct {
	// Validated requests matched an operation; each request and its
	// response were checked.
	Validated int64
	// Rejected are the validated requests the description calls invalid
	// and the server refused with a 4xx error (tests of bad input).
	Rejected int64
	// Unrouted requests matched no operation: unknown /api paths, whose
	// answer must be a described error, and dashboard pages.
	Unrouted int64
}

var (
	total struct{ validated, rejected, unrouted atomic.Int64 }
	// seen holds the operations ("GET /api/v1/services") validated.
	seen sync.Map
)

// Total returns the counts of every validator in the test binary.
func Total() Counts {
	return Counts{Validated: total.validated.Load(), Rejected: total.rejected.Load(), Unrouted: total.unrouted.Load()}
}

// Operations lists the operations whose traffic was validated, sorted.
func Operations() []string {
	var out []string
	seen.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	slices.Sort(out)
	return out
}

// Middleware validates each request next serves, and its response,
// against docs/openapi.yaml, reporting every mismatch with t.Errorf:
//   - a request to a described operation is validated (path, query,
//     headers, security, body); one the description calls invalid must be
//     refused by the server with a 4xx error, as a test of bad input does;
//   - every response of a described operation must match it: a described
//     status, content type and body;
//   - a request under /api/ that matches no operation must be answered
//     with the described error body (the server's 404 and 405).
//
// Other paths (the dashboard) are passed through.
func Middleware(t testing.TB, next http.Handler) http.Handler {
	doc, rt, err := shared()
	if err != nil {
		t.Fatalf("openapitest: %v", err)
	}
	errorSchema := doc.Components.Schemas["ErrorBody"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("openapitest: read the request body of %s %s: %v", r.Method, r.URL.Path, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}

		// Route a copy with the URL as the client asked for it; the
		// router matches paths against the server URL "/".
		probe := r.Clone(context.Background())
		probe.URL = &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		route, params, rerr := rt.FindRoute(probe)
		if rerr != nil {
			next.ServeHTTP(rec, r)
			total.unrouted.Add(1)
			if !strings.HasPrefix(r.URL.Path, "/api/") {
				return
			}
			if rec.status < 400 || !isJSON(rec.Header().Get("Content-Type")) {
				t.Errorf("openapitest: %s %s matches no operation of docs/openapi.yaml (%v), yet the server answered %d %s",
					r.Method, r.URL.Path, rerr, rec.status, rec.Header().Get("Content-Type"))
				return
			}
			if err := errorSchema.Value.VisitJSON(decodeJSON(rec.body.Bytes()), openapi3.EnableJSONSchema2020()); err != nil {
				t.Errorf("openapitest: %s %s (no operation) answered %d with a body that is not the error shape: %v\n%s",
					r.Method, r.URL.Path, rec.status, err, rec.body.Bytes())
			}
			return
		}

		// The server reads a body sent without Content-Type as JSON.
		if len(body) > 0 && probe.Header.Get("Content-Type") == "" {
			probe.Header.Set("Content-Type", "application/json")
		}
		probe.Body = io.NopCloser(bytes.NewReader(body))
		in := &openapi3filter.RequestValidationInput{
			Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: authenticate, MultiError: true},
		}
		reqErr := openapi3filter.ValidateRequest(context.Background(), in)

		next.ServeHTTP(rec, r)
		total.validated.Add(1)
		op := r.Method + " " + route.Path
		seen.Store(op, true)
		if reqErr != nil {
			if rec.status < 400 || rec.status >= 500 {
				t.Errorf("openapitest: %s: the request does not match docs/openapi.yaml, yet the server answered %d:\n%v\nrequest body: %s",
					op, rec.status, reqErr, clip(body))
			} else {
				total.rejected.Add(1)
			}
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 rec.status,
			Header:                 rec.Header(),
			Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("openapitest: %s answered %d %s, which docs/openapi.yaml does not describe:\n%v\nresponse body: %s",
				op, rec.status, rec.Header().Get("Content-Type"), err, clip(rec.body.Bytes()))
		}
	})
}

// authenticate checks that the request carries the credential a security
// scheme names (whether it is good is the server's business).
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	s := in.SecurityScheme
	switch {
	case s.Type == "http" && s.Scheme == "bearer":
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return nil
		}
		return errors.New("no bearer token")
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "query":
		if r.URL.Query().Has(s.Name) {
			return nil
		}
	}
	return fmt.Errorf("no %s credential", in.SecuritySchemeName)
}

func isJSON(ct string) bool { return strings.HasPrefix(ct, "application/json") }

func decodeJSON(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	return v
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

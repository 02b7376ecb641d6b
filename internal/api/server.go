// Package api is tandem's HTTP API under /api/v1, with /healthz, /readyz and
// /metrics. It is a thin adapter: handlers decode and check the request,
// call a capability package and encode its answer. Routes are registered in
// routes(), one file of handlers per capability.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	tandem "github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/docs"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db"
)

// Server holds what the handlers need. Build one with New after filling the
// exported fields; they are not changed afterwards.
type Server struct {
	DB         *db.DB
	Config     *config.Holder
	Tokens     *auth.Store
	Log        *slog.Logger
	Clock      clock.Clock
	Registry   *prometheus.Registry
	PublicRead bool
	// Web serves the dashboard at / (nil: no dashboard).
	Web http.Handler
	// Reloaded is called after a successful config reload.
	Reloaded func(*config.Config)

	// One block of dependencies per capability, set by app.
	Change   ChangeDeps
	SLO      SLODeps
	Oncall   OncallDeps
	Incident IncidentDeps
	Chatops  ChatopsDeps
	Gate     GateDeps
	Learning LearningDeps
	Chaos    ChaosDeps

	metrics *httpMetrics
	otlp    *otlpMetrics
	handler http.Handler
	// patterns lists the patterns registered with a method, in order.
	patterns []string
	// services caches the JSON of the unfiltered service list for the
	// config it was made from; a reload makes a new config, so a stale
	// entry is never served.
	services atomic.Pointer[encodedList]
}

// Init builds the router. Call it once, after setting the fields.
func (s *Server) Init() error {
	m, err := newHTTPMetrics(s.Registry)
	if err != nil {
		return err
	}
	s.metrics = m
	mux := http.NewServeMux()
	if err := s.otlpRoutes(mux); err != nil {
		return err
	}
	s.routes(mux)
	// The order is the order a request passes through.
	s.handler = s.recoverer(s.requestID(s.logRequests(s.instrument(limitBody(mux)))))
	return nil
}

// ServeHTTP serves the API, the probes, /metrics and the dashboard.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// routes registers every endpoint. Each capability adds its own block.
func (s *Server) routes(mux *http.ServeMux) {
	s.register(mux, "GET /healthz", http.HandlerFunc(s.healthz))
	s.register(mux, "GET /readyz", http.HandlerFunc(s.readyz))
	s.register(mux, "GET /metrics", s.metricsHandler())
	// The API's description is public, like the documentation it is part of.
	s.handle(mux, "GET /api/v1/openapi.yaml", "", s.openAPI)

	s.handle(mux, "GET /api/v1/services", auth.ScopeRead, s.listServices)
	s.handle(mux, "GET /api/v1/services/{name}", auth.ScopeRead, s.getService)
	s.handle(mux, "GET /api/v1/teams", auth.ScopeRead, s.listTeams)
	s.handle(mux, "GET /api/v1/teams/{name}", auth.ScopeRead, s.getTeam)
	s.handle(mux, "GET /api/v1/people", auth.ScopeRead, s.listPeople)
	s.handle(mux, "GET /api/v1/people/{name}", auth.ScopeRead, s.getPerson)
	s.handle(mux, "GET /api/v1/tools", auth.ScopeRead, s.listTools)
	s.handle(mux, "GET /api/v1/tools/{name}", auth.ScopeRead, s.getTool)
	s.handle(mux, "POST /api/v1/admin/reload", auth.ScopeAdmin, s.reload)
	s.handle(mux, "GET /api/v1/admin/tokens", auth.ScopeAdmin, s.listTokens)
	s.handle(mux, "POST /api/v1/admin/tokens", auth.ScopeAdmin, s.createToken)
	s.handle(mux, "DELETE /api/v1/admin/tokens/{name}", auth.ScopeAdmin, s.revokeToken)

	s.changeRoutes(mux)
	s.sloRoutes(mux)
	s.oncallRoutes(mux)
	s.incidentRoutes(mux)
	s.chatopsRoutes(mux)
	s.gateRoutes(mux)
	s.learningRoutes(mux)
	s.chaosRoutes(mux)

	// Unknown API paths answer JSON, not the dashboard; a known path with
	// the wrong method answers 405 with the methods it has.
	s.handle(mux, "/api/", "", func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return tandem.Errorf(tandem.EMethod, "%s %s: this endpoint takes %s", r.Method, r.URL.Path, strings.Join(allow, ", "))
		}
		return notFound("no such endpoint: %s %s", r.Method, r.URL.Path)
	})
	if s.Web != nil {
		s.register(mux, "/", s.Web)
	}
}

// register adds h to mux at pattern and remembers the pattern when it names
// a method: those are the routes docs/openapi.yaml must describe.
func (s *Server) register(mux *http.ServeMux, pattern string, h http.Handler) {
	mux.Handle(pattern, h)
	if method, _, ok := strings.Cut(pattern, " "); ok && method != "" {
		s.patterns = append(s.patterns, pattern)
	}
}

// Routes returns the patterns ("GET /api/v1/services/{name}") of every
// route Init registered, in registration order; the catch-all patterns
// without a method ("/api/", the dashboard's "/") are not routes.
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }

// openAPI serves docs/openapi.yaml.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(docs.OpenAPI)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(docs.OpenAPI)
	return nil
}

// allowed lists the methods with an endpoint of their own at r's path (the
// catch-all "/api/" does not count).
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/api/" {
			out = append(out, m)
		}
	}
	return out
}

// handlerFunc is an endpoint that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h behind the auth check for scope. An empty scope means
// the endpoint authenticates itself (webhooks sign their bodies).
func (s *Server) handle(mux *http.ServeMux, pattern string, scope auth.Scope, h handlerFunc) {
	s.register(mux, pattern, s.authorize(scope, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{"database": "ok", "config": "ok"}
	status := http.StatusOK
	if err := s.DB.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		status = http.StatusServiceUnavailable
		s.Log.Warn("readiness: database unreachable", "err", err)
	}
	if s.Config == nil || s.Config.Get() == nil {
		checks["config"] = "not loaded"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, checks)
}

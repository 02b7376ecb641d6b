package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyToken
)

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// TokenFrom returns the token that authenticated the request, if any.
func TokenFrom(ctx context.Context) (auth.Token, bool) {
	t, ok := ctx.Value(keyToken).(auth.Token)
	return t, ok
}

// actor names who made a request, for audit fields: the token's name, or
// "anonymous".
func actor(r *http.Request) string {
	if t, ok := TokenFrom(r.Context()); ok {
		return "token:" + t.Name
	}
	return "anonymous"
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyRequestID, id)))
	})
}

// validRequestID accepts a client's request id only when it is short and
// plain, so it can go into logs and headers as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			return
		}
		// The route pattern is logged, never the path or the query string:
		// signed ack/resolve links carry their token in the path
		// (/api/v1/actions/{token}) and calendar feeds in ?token=.
		s.Log.Debug("request", "method", r.Method, "route", routeOf(r), "status", sw.status,
			"bytes", sw.bytes, "duration_ms", time.Since(start).Milliseconds(), "request_id", requestIDFrom(r.Context()))
	})
}

// routeOf names the route that served r: its pattern without the method
// ("/api/v1/incidents/{id}"), or "unmatched". The mux fills r.Pattern on
// the request the outer middleware holds, so it is known once the handler
// has run.
func routeOf(r *http.Request) string {
	route := r.Pattern
	if route == "" {
		return "unmatched"
	}
	if i := strings.IndexByte(route, ' '); i >= 0 {
		route = route[i+1:]
	}
	return route
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tandem_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{Registry: s.Registry})
}

// instrument counts requests and their latency by route pattern (never the
// raw path, which would make one series per incident id).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := routeOf(r)
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(route, r.Method, fmt.Sprint(code)).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprintf(w, `{"error":{"code":"too_large","message":"request body larger than %d bytes"}}`+"\n", MaxBodyBytes)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// BearerToken returns the token in the Authorization header, or "".
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// headerTokenIgnored is set on a public read whose token the server did
// not accept, so a client can tell its token was not used.
const headerTokenIgnored = "X-Tandem-Token-Ignored"

// authorize checks the request's token against the scope the route needs.
// Reads pass without a token when the server runs with public reads.
func (s *Server) authorize(need auth.Scope, next http.Handler) http.Handler {
	if need == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := BearerToken(r)
		if secret == "" {
			if need == auth.ScopeRead && s.PublicRead {
				next.ServeHTTP(w, r)
				return
			}
			s.writeError(w, r, tandem.Errorf(tandem.EUnauthorized, "missing token: send Authorization: Bearer <token>"))
			return
		}
		tok, err := s.Tokens.Verify(r.Context(), secret)
		if err != nil {
			// With public reads a read needs no token, so a token the server
			// does not know does not stop it: the read is served as to
			// anyone, and the response says the token was not used.
			if need == auth.ScopeRead && s.PublicRead && tandem.ErrorCode(err) == tandem.EUnauthorized {
				w.Header().Set(headerTokenIgnored, "the token is not known to this server; served as a public read")
				next.ServeHTTP(w, r)
				return
			}
			s.writeError(w, r, err)
			return
		}
		if !tok.Scope.Allows(need) {
			s.writeError(w, r, tandem.Errorf(tandem.EForbidden, "token %q has scope %s; this needs %s", tok.Name, tok.Scope, need))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyToken, tok)))
	})
}

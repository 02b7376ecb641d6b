package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// catalogOf generates a valid config with n services over n/10 teams.
func catalogOf(b testing.TB, n int) *config.Config {
	b.Helper()
	var y strings.Builder
	y.WriteString("teams:\n")
	for i := 0; i < n/10+1; i++ {
		fmt.Fprintf(&y, "  - {name: team-%d, display_name: Team %d, slack_channel: \"#team-%d\"}\n", i, i, i)
	}
	y.WriteString("services:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&y, "  - name: service-%04d\n    description: Service number %d of the benchmark catalog.\n    team: team-%d\n    tier: %d\n    repository: https://github.com/example/service-%04d\n    environments: [production, staging]\n",
			i, i, i/10, i%4+1, i)
		if i > 0 {
			fmt.Fprintf(&y, "    depends_on: [service-%04d]\n", i-1)
		}
	}
	cfg, err := config.Parse(map[string][]byte{"bench.yaml": []byte(y.String())}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// discardWriter is a ResponseWriter that counts the body and keeps nothing,
// like a connection does (httptest.ResponseRecorder would add the cost of
// growing a buffer for every answer).
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}

// BenchmarkListServices500 serves GET /api/v1/services from a catalog of 500
// services in process, through the whole middleware chain with a read token
// checked against SQLite. It reports the 95th percentile latency of the
// iterations (target: under 5 ms).
func BenchmarkListServices500(b *testing.B) {
	d := dbtest.SQLite(b)
	cfg := catalogOf(b, 500)
	tokens := &auth.Store{DB: d}
	_, secret, err := tokens.Create(context.Background(), "bench", auth.ScopeRead, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	s := &Server{DB: d, Config: config.NewHolder(cfg), Tokens: tokens, Clock: clock.System{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()}
	if err := s.Init(); err != nil {
		b.Fatal(err)
	}
	// "all" is served from the per-config cache; the filter matches every
	// service too, but is encoded on each request.
	for _, bc := range []struct{ name, query string }{{"all", ""}, {"filtered", "?environment=production"}} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/services"+bc.query, nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			lat := make([]time.Duration, 0, b.N)
			var size int
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				w := &discardWriter{header: http.Header{}}
				s.ServeHTTP(w, req)
				lat = append(lat, time.Since(start))
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
				size = w.n
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(size), "resp-bytes")
		})
	}
}

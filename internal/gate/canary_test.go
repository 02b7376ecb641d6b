package gate_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/testenv"
)

var p95Line = regexp.MustCompile(`(PASS|FAIL) +p95_latency_ms (\S+) = ([0-9.]+)ms over (\S+) \(want <= 500ms\)`)

// p95Of runs `tandem gate slo --p95-latency-ms 500` with extra flags and
// returns the exit code, the p95 the gate measured and the window it says.
func p95Of(t *testing.T, srv *apptest.Server, service string, extra ...string) (int, float64, string, string) {
	t.Helper()
	args := append([]string{"gate", "slo", "--service", service, "--p95-latency-ms", "500"}, extra...)
	code, out, errOut := run(t, srv, args...)
	m := p95Line.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no p95 line: exit %d\n%s\n%s", code, out, errOut)
	}
	v, _ := strconv.ParseFloat(m[3], 64)
	return code, v, m[4], out
}

// TestSLOGateRecentP95 is a canary whose last ten minutes run at 700 ms
// while its 28 days ran at 100 ms, on native data posted through the
// ingest API. The SLO's own p95 (28 days) is under the 500 ms limit; the
// gate measures the last 15 minutes and fails, and says so.
func TestSLOGateRecentP95(t *testing.T) {
	srv := apptest.Start(t, apptest.Options{ConfigDir: configDir(t)})
	now := time.Now().UTC().Truncate(time.Minute)
	var evs []client.SLOEvent
	obs := func(at time.Time, ms float64) {
		evs = append(evs, client.SLOEvent{Time: at, LatencyMs: &ms})
	}
	// 26 days at one request per 10 minutes, the last two days at ten per
	// five minutes, all at 100 ms, up to ten minutes ago.
	for at := now.Add(-28 * 24 * time.Hour); at.Before(now.Add(-10 * time.Minute)); {
		if at.Before(now.Add(-48 * time.Hour)) {
			obs(at, 100)
			at = at.Add(10 * time.Minute)
			continue
		}
		for i := range 10 {
			obs(at.Add(time.Duration(i)*time.Second), 100)
		}
		at = at.Add(5 * time.Minute)
	}
	// The canary: the last ten minutes at 700 ms, 20 a minute.
	for at := now.Add(-10 * time.Minute); at.Before(now); at = at.Add(3 * time.Second) {
		obs(at, 700)
	}
	if _, err := srv.Client.PostSLOEvents(context.Background(), "identity-login-latency", client.SLOBatch{Source: "test", BatchID: "canary", Events: evs}); err != nil {
		t.Fatal(err)
	}
	st, err := srv.Client.SLO(context.Background(), "identity-login-latency")
	if err != nil || st.P95Ms == nil || *st.P95Ms >= 500 {
		t.Fatalf("the SLO's own p95 over %s should be under 500 ms: %+v %v", st.Window, st.P95Ms, err)
	}
	code, p95, window, out := p95Of(t, srv, "identity-api")
	if code != 1 || p95 <= 500 || window != "15m" {
		t.Errorf("last 15m: exit %d, p95 %v over %s, want exit 1 and a p95 over 500 ms over 15m\n%s", code, p95, window, out)
	}
	// Over the last week the canary's ten minutes are lost in the rest.
	code, p95, window, out = p95Of(t, srv, "identity-api", "--window", "7d")
	if code != 0 || p95 >= 500 || window != "7d" {
		t.Errorf("last 7d: exit %d, p95 %v over %s\n%s", code, p95, window, out)
	}
}

// TestSLOGateRecentP95Prometheus is the same canary on a real Prometheus:
// 28 days of a latency histogram at 80 ms, backfilled with promtool, whose
// last ten minutes run at 700 ms. The SLO's p95 over its 28-day window is
// under 500 ms; the gate's p95 over the last 15 minutes is not.
func TestSLOGateRecentP95Prometheus(t *testing.T) {
	bin := testenv.Binary(t, "TANDEM_TEST_PROMETHEUS", "prometheus")
	promtool := testenv.Binary(t, "TANDEM_TEST_PROMTOOL", "promtool")
	dir := t.TempDir()
	now := time.Now().Truncate(15 * time.Second)
	var b strings.Builder
	bounds := []string{"0.05", "0.1", "0.25", "0.5", "1", "+Inf"}
	counts := make([]float64, len(bounds)) // cumulative per bound
	var total float64
	add := func(n float64, seconds float64) {
		for i, le := range bounds {
			if v, _ := strconv.ParseFloat(le, 64); le == "+Inf" || seconds <= v {
				counts[i] += n
			}
		}
		total += n
	}
	b.WriteString("# HELP canary_request_duration_seconds Request latency.\n# TYPE canary_request_duration_seconds histogram\n")
	emit := func(at time.Time) {
		ts := strconv.FormatInt(at.Unix(), 10)
		for i, le := range bounds {
			fmt.Fprintf(&b, "canary_request_duration_seconds_bucket{le=%q} %g %s\n", le, counts[i], ts)
		}
		fmt.Fprintf(&b, "canary_request_duration_seconds_count %g %s\n", total, ts)
	}
	// 28,800 requests at 80 ms a day (100 every 5 minutes), one sample a
	// day (promtool writes a block per two hours that holds a sample, and
	// re-reads the file for each); the last two hours in 15 s steps of 5
	// requests, the last ten minutes 25 requests at 700 ms a step instead.
	for at := now.Add(-28 * 24 * time.Hour); !at.After(now); {
		step := 24 * time.Hour
		if !at.Before(now.Add(-2 * time.Hour)) {
			step = 15 * time.Second
		}
		switch {
		case at.After(now.Add(-10 * time.Minute)):
			add(25, 0.7)
		case step == 24*time.Hour:
			add(28800, 0.08)
		default:
			add(5, 0.08)
		}
		emit(at)
		if next := at.Add(step); step == 24*time.Hour && next.After(now.Add(-2*time.Hour)) {
			at = now.Add(-2 * time.Hour)
		} else {
			at = next
		}
	}
	b.WriteString("# EOF\n")
	input, data := filepath.Join(dir, "canary.om"), filepath.Join(dir, "data")
	if err := os.WriteFile(input, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", input, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
	prom := startPrometheus(t, bin, "global:\n  scrape_interval: 1m\n", data, "--storage.tsdb.retention.time=60d")

	cfgDir := configDir(t)
	slo := fmt.Sprintf(`apiVersion: openslo/v1
kind: DataSource
metadata:
  name: canary-prometheus
spec:
  type: Prometheus
  connectionDetails:
    url: %s
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: payments-canary-latency
  annotations:
    tandem.dev/latency-histogram: canary_request_duration_seconds_bucket
spec:
  service: payments-api
  indicator:
    metadata:
      name: payments-canary
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            metricSourceRef: canary-prometheus
            spec:
              query: canary_request_duration_seconds_bucket{le="0.5"}
        total:
          metricSource:
            metricSourceRef: canary-prometheus
            spec:
              query: canary_request_duration_seconds_count
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
`, prom)
	if err := os.WriteFile(filepath.Join(cfgDir, "slos-canary.yaml"), []byte(slo), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := apptest.Start(t, apptest.Options{ConfigDir: cfgDir})
	st, err := srv.Client.SLO(context.Background(), "payments-canary-latency")
	if err != nil || st.Error != "" || st.P95Ms == nil || *st.P95Ms >= 500 {
		t.Fatalf("the SLO's own p95 over 28d should be under 500 ms: %+v %v", st, err)
	}
	code, p95, window, out := p95Of(t, srv, "payments-api", "--timeout", "30s")
	if code != 1 || p95 <= 500 || window != "15m" {
		t.Errorf("last 15m: exit %d, p95 %v over %s, want exit 1 and a p95 over 500 ms over 15m\n%s", code, p95, window, out)
	}
	// Over the last week the canary's ten minutes are lost in the rest.
	code, p95, window, out = p95Of(t, srv, "payments-api", "--window", "7d", "--timeout", "30s")
	if code != 0 || p95 >= 500 || window != "7d" {
		t.Errorf("last 7d: exit %d, p95 %v over %s\n%s", code, p95, window, out)
	}
	// Post-deploy verification reads a Prometheus SLO over exactly its
	// windows, here ten minutes (not one of the status's burn windows):
	// every request after the canary's deploy is slower than 500 ms.
	dep, err := srv.Client.RecordChange(context.Background(), client.ChangeEvent{Service: "payments-api", Kind: change.KindDeploy,
		Version: "canary", FinishedAt: now.Add(-10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, srv, "verify", "deploy", "--deploy", fmt.Sprint(dep.ID), "--window", "10m", "--baseline", "1h", "--no-wait")
	if code != 1 || !strings.Contains(out, "FAIL           error_ratio payments-canary-latency = 100% over 10m") {
		t.Errorf("verification: exit %d\n%s", code, out)
	}
}

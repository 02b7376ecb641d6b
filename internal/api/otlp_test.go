package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/clock"
)

// otlpSLOs read what the OpenTelemetry SDK sends in TestOTLPExporter: a
// counter of requests by status, an explicit-bucket histogram of latency
// in seconds and an exponential one in milliseconds, all of service
// checkout; otlp-idle reads a metric nobody sends.
const otlpSLOs = `
apiVersion: openslo/v1
kind: SLO
metadata: {name: otlp-availability}
spec:
  service: checkout
  indicator:
    metadata: {name: otlp-availability}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.requests, maxStatus: 500}}}
        total: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.requests, attributes: {service.name: checkout}}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: otlp-latency}
spec:
  service: checkout
  indicator:
    metadata: {name: otlp-latency}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.duration, latencyMaxMs: 250}}}
        total: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.duration, attributes: {service.name: checkout, http.request.method: [GET, POST]}}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.8}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: otlp-exp-latency}
spec:
  service: checkout
  indicator:
    metadata: {name: otlp-exp-latency}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.exp.duration, latencyMaxMs: 256}}}
        total: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.exp.duration}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.5}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: otlp-idle}
spec:
  service: checkout
  indicator:
    metadata: {name: otlp-idle}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.idle}}}
        total: {metricSource: {type: tandem, spec: {source: otlp, metric: checkout.idle}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`

func otlpServer(t *testing.T, postgres bool) *apptest.Server {
	t.Helper()
	return otlpServerOn(t, postgres)
}

func otlpServerB(b *testing.B) *apptest.Server { return otlpServerOn(b, false) }

func otlpServerOn(t testing.TB, postgres bool) *apptest.Server {
	t.Helper()
	src, dir := apptest.ExamplesDir(t), t.TempDir()
	for _, f := range []string{"services.yaml", "teams.yaml", "oncall.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "slos-otlp.yaml"), []byte(otlpSLOs), 0o644); err != nil {
		t.Fatal(err)
	}
	// The server's clock stands two minutes ahead, so that the minute of a
	// point sent now is complete (a status counts complete minutes only).
	return apptest.Start(t, apptest.Options{ConfigDir: dir, Postgres: postgres, Clock: clock.NewFake(time.Now().Add(2 * time.Minute))})
}

type sloStatus struct {
	Status      string   `json:"status"`
	Reason      string   `json:"reason"`
	SLI         *float64 `json:"sli"`
	Good        *float64 `json:"good"`
	Total       *float64 `json:"total"`
	ErrorBudget struct {
		Consumed  *float64 `json:"consumed"`
		Remaining *float64 `json:"remaining"`
	} `json:"error_budget"`
}

func getStatus(t *testing.T, s *apptest.Server, name string) sloStatus {
	t.Helper()
	code, _, b := call(t, "GET", s.URL+"/api/v1/slos/"+name, s.AdminToken, nil)
	if code != 200 {
		t.Fatalf("status of %s: %d %s", name, code, b)
	}
	var st sloStatus
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func near(a *float64, b float64) bool { return a != nil && *a > b-1e-9 && *a < b+1e-9 }

// The OpenTelemetry Go SDK's OTLP/HTTP exporter, pointed at tandem with a
// write token, feeds three SLOs; their statuses carry the hand-computed
// numbers, a second export of the cumulative series adds only what is new,
// and an SLO whose metric never came has no data, not 100 %.
func TestOTLPExporter(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			s := otlpServer(t, engine == "postgres")
			ctx := context.Background()
			exp, err := otlpmetrichttp.New(ctx,
				otlpmetrichttp.WithEndpointURL(s.URL+"/v1/metrics"),
				otlpmetrichttp.WithHeaders(map[string]string{"Authorization": "Bearer " + s.Token(t, "otel", auth.ScopeWrite)}),
				otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression),
			)
			if err != nil {
				t.Fatal(err)
			}
			res := resource.NewSchemaless(attribute.String("service.name", "checkout"))
			expView := sdkmetric.NewView(sdkmetric.Instrument{Name: "checkout.exp.duration"},
				sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}})
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithView(expView),
				sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
			defer mp.Shutdown(ctx)
			meter := mp.Meter("checkout")
			reqs, _ := meter.Int64Counter("checkout.requests")
			dur, _ := meter.Float64Histogram("checkout.duration", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(0.1, 0.25, 0.5, 1))
			expDur, _ := meter.Float64Histogram("checkout.exp.duration", metric.WithUnit("ms"))

			ok, fail := metric.WithAttributes(attribute.Int("http.response.status_code", 200)), metric.WithAttributes(attribute.Int("http.response.status_code", 503))
			reqs.Add(ctx, 995, ok)
			reqs.Add(ctx, 5, fail)
			get := metric.WithAttributes(attribute.String("http.request.method", "GET"))
			for _, o := range []struct {
				v float64
				n int
			}{{0.05, 60}, {0.25, 30}, {0.3, 8}, {2, 2}} {
				for range o.n {
					dur.Record(ctx, o.v, get)
				}
			}
			// Not selected by otlp-latency's total: method DELETE.
			dur.Record(ctx, 0.01, metric.WithAttributes(attribute.String("http.request.method", "DELETE")))
			for _, o := range []struct {
				v float64
				n int
			}{{100, 50}, {256, 25}, {300, 20}, {1000, 5}} {
				for range o.n {
					expDur.Record(ctx, o.v)
				}
			}
			// The DELETE point is rejected, and the SDK reports the partial
			// success.
			if err := mp.ForceFlush(ctx); err == nil || !strings.Contains(err.Error(), "1 points dropped: 1 no_match") {
				t.Fatalf("export: %v, want the partial success of the DELETE point", err)
			}

			// 995 of 1000 below 500; objective 99 %: 10 bad allowed, 5
			// spent, half the budget.
			st := getStatus(t, s, "otlp-availability")
			if !near(st.Good, 995) || !near(st.Total, 1000) || !near(st.SLI, 0.995) || !near(st.ErrorBudget.Consumed, 0.5) || !near(st.ErrorBudget.Remaining, 0.5) {
				t.Errorf("otlp-availability after one export: %+v", st)
			}
			// 60 at 50 ms and 30 at 250 ms (the bucket (0.1, 0.25] is at
			// most 250 ms) are good; 8 at 300 ms and 2 at 2 s are not;
			// 90/100 against 80 %: 20 bad allowed, 10 spent.
			st = getStatus(t, s, "otlp-latency")
			if !near(st.Good, 90) || !near(st.Total, 100) || !near(st.ErrorBudget.Consumed, 0.5) || st.Status != "healthy" {
				t.Errorf("otlp-latency: %+v", st)
			}
			// 50 at 100 ms and 25 at exactly 256 ms = 2^8, a bucket's upper
			// bound at every scale, are good; 25 slower are not: 75/100
			// against 50 %: 50 bad allowed, 25 spent.
			st = getStatus(t, s, "otlp-exp-latency")
			if !near(st.Good, 75) || !near(st.Total, 100) || !near(st.ErrorBudget.Consumed, 0.5) {
				t.Errorf("otlp-exp-latency: %+v", st)
			}
			st = getStatus(t, s, "otlp-idle")
			if st.Status != "no_data" || st.SLI != nil || st.ErrorBudget.Remaining != nil || st.Reason == "" {
				t.Errorf("otlp-idle: %+v, want no_data with null sli and budget and a reason", st)
			}

			// The SDK exports cumulative sums: the second export carries
			// 1100 requests in all, of which tandem adds the 100 new.
			time.Sleep(2 * time.Millisecond) // the SDK's next timestamp must differ
			reqs.Add(ctx, 100, ok)
			if err := mp.ForceFlush(ctx); err == nil || !strings.Contains(err.Error(), "no_match") {
				t.Fatalf("second export: %v", err)
			}
			st = getStatus(t, s, "otlp-availability")
			if !near(st.Good, 1095) || !near(st.Total, 1100) {
				t.Errorf("otlp-availability after two exports: good %v total %v, want 1095/1100", deref(st.Good), deref(st.Total))
			}
			// A third export with nothing new adds nothing.
			time.Sleep(2 * time.Millisecond)
			if err := mp.ForceFlush(ctx); err == nil || !strings.Contains(err.Error(), "no_match") {
				t.Fatalf("third export: %v", err)
			}
			if st = getStatus(t, s, "otlp-latency"); !near(st.Good, 90) || !near(st.Total, 100) {
				t.Errorf("otlp-latency after three exports: %v/%v, want 90/100", deref(st.Good), deref(st.Total))
			}
		})
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func otlpRequest(t *testing.T, name string, n int64, status int) pmetricotlp.ExportRequest {
	t.Helper()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	p := sum.DataPoints().AppendEmpty()
	now := time.Now()
	p.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Minute)))
	p.SetTimestamp(pcommon.NewTimestampFromTime(now))
	p.SetIntValue(n)
	p.Attributes().PutInt("http.response.status_code", int64(status))
	return pmetricotlp.NewExportRequestFromMetrics(md)
}

// The receiver as the OTLP/HTTP specification describes it: JSON in, JSON
// out; partial_success for points no SLO takes; 415 for another content
// type; 400 with a google.rpc.Status in the request's encoding for a body
// that does not decode; 401 without a token, 403 with a read token; an
// exact retry of a delta export counted once.
func TestOTLPProtocol(t *testing.T) {
	s := otlpServer(t, false)
	u, write, read := s.URL+"/v1/metrics", s.Token(t, "w", auth.ScopeWrite), s.Token(t, "r", auth.ScopeRead)

	body, _ := otlpRequest(t, "checkout.requests", 40, 200).MarshalJSON()
	code, h, b := call(t, "POST", u, write, bytes.NewReader(body), "Content-Type", "application/json")
	if code != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON export: %d %s %s", code, h.Get("Content-Type"), b)
	}
	resp := pmetricotlp.NewExportResponse()
	if err := resp.UnmarshalJSON(b); err != nil || resp.PartialSuccess().RejectedDataPoints() != 0 {
		t.Errorf("response %s: %v", b, err)
	}
	// The exporter retries the same request: counted once.
	if code, _, b := call(t, "POST", u, write, bytes.NewReader(body), "Content-Type", "application/json"); code != 200 {
		t.Fatalf("retry: %d %s", code, b)
	}
	if st := getStatus(t, s, "otlp-availability"); !near(st.Total, 40) {
		t.Errorf("after a retried delta export: total %v, want 40", deref(st.Total))
	}

	// A metric no SLO reads: 200, with the point rejected and why.
	pb, _ := otlpRequest(t, "queue.depth", 1, 200).MarshalProto()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pb)
	zw.Close()
	code, h, b = call(t, "POST", u, write, bytes.NewReader(gz.Bytes()), "Content-Type", "application/x-protobuf", "Content-Encoding", "gzip")
	if code != 200 || h.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("protobuf export: %d %s", code, b)
	}
	resp = pmetricotlp.NewExportResponse()
	if err := resp.UnmarshalProto(b); err != nil || resp.PartialSuccess().RejectedDataPoints() != 1 ||
		!strings.Contains(resp.PartialSuccess().ErrorMessage(), "1 no_slo (no SLO reads the metric)") {
		t.Errorf("partial success: %v %d %q", err, resp.PartialSuccess().RejectedDataPoints(), resp.PartialSuccess().ErrorMessage())
	}

	code, _, b = call(t, "POST", u, write, strings.NewReader("x"), "Content-Type", "text/plain")
	if code != 415 {
		t.Errorf("text/plain: %d %s", code, b)
	}
	code, _, b = call(t, "POST", u, write, strings.NewReader(`{"resourceMetrics": 7}`), "Content-Type", "application/json")
	var rpc struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if code != 400 || json.Unmarshal(b, &rpc) != nil || rpc.Code != 3 || rpc.Message == "" {
		t.Errorf("bad JSON: %d %s", code, b)
	}
	code, h, b = call(t, "POST", u, write, bytes.NewReader([]byte{0x0a, 0xff}), "Content-Type", "application/x-protobuf")
	// google.rpc.Status: field 1 (code) varint 3, field 2 (message).
	if code != 400 || h.Get("Content-Type") != "application/x-protobuf" || len(b) < 2 || b[0] != 0x08 || b[1] != 3 {
		t.Errorf("bad protobuf: %d % x", code, b)
	} else if num, typ, n := protowire.ConsumeTag(b[2:]); num != 2 || typ != protowire.BytesType || n < 0 {
		t.Errorf("bad protobuf: no message in % x", b)
	}
	code, _, b = call(t, "POST", u, write, strings.NewReader("not gzip"), "Content-Type", "application/json", "Content-Encoding", "gzip")
	if code != 400 {
		t.Errorf("bad gzip: %d %s", code, b)
	}
	code, _, _ = call(t, "POST", u, write, strings.NewReader("{}"), "Content-Type", "application/json", "Content-Encoding", "br")
	if code != 415 {
		t.Errorf("brotli: %d", code)
	}
	// A gzip bomb: 17 MiB of zeros decompressed is over the limit.
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write(make([]byte, 17<<20))
	zw.Close()
	if code, _, b := call(t, "POST", u, write, bytes.NewReader(gz.Bytes()), "Content-Type", "application/x-protobuf", "Content-Encoding", "gzip"); code != 413 {
		t.Errorf("gzip bomb: %d %s", code, b)
	}

	if code, _, _ := call(t, "POST", u, "", bytes.NewReader(body), "Content-Type", "application/json"); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _, _ := call(t, "POST", u, read, bytes.NewReader(body), "Content-Type", "application/json"); code != http.StatusForbidden {
		t.Errorf("read token: %d", code)
	}
	// Nothing of the refused requests was counted.
	if st := getStatus(t, s, "otlp-availability"); !near(st.Total, 40) {
		t.Errorf("total %v, want 40", deref(st.Total))
	}
}

package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/sli"
	"github.com/tandemhq/tandem/internal/slo"
)

// MaxOTLPBytes bounds an OTLP export request once decompressed (the body
// on the wire is bounded by MaxBodyBytes like every other).
const MaxOTLPBytes = 16 << 20

// OTLP/HTTP content types.
const (
	otlpProto = "application/x-protobuf"
	otlpJSON  = "application/json"
)

// gRPC status codes of a google.rpc.Status body.
const (
	rpcInvalidArgument = 3
	rpcUnavailable     = 14
)

// otlpMetrics counts what OTLP exports bring.
type otlpMetrics struct {
	points  *prometheus.CounterVec
	dropped *prometheus.CounterVec
}

func newOTLPMetrics(reg prometheus.Registerer) (*otlpMetrics, error) {
	m := &otlpMetrics{
		points: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_otlp_points_total",
			Help: "OTLP data points that fed at least one SLO, by outcome: applied (counted), baseline (the first point of a series that started long ago, kept to count the next one against), stale (not newer than the last point of its series) or duplicate (a request applied before).",
		}, []string{"outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tandem_otlp_points_dropped_total",
			Help: "OTLP data points that fed no SLO, by reason (no_slo, no_match, unsupported_type, non_monotonic, temporality, no_value, out_of_range, bad_value, malformed, unit, not_histogram).",
		}, []string{"reason"}),
	}
	// Every outcome and reason is exported from the start (at 0), so a
	// rate() over them is defined before the first point arrives.
	for _, o := range []string{"applied", "baseline", "stale", "duplicate"} {
		m.points.WithLabelValues(o)
	}
	for reason := range sli.DropReasons {
		m.dropped.WithLabelValues(reason)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.points, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register OTLP metrics: %w", err)
			}
		}
	}
	return m, nil
}

// otlpRoutes registers the OTLP/HTTP metrics receiver, on the API's
// listener at the path exporters default to.
func (s *Server) otlpRoutes(mux *http.ServeMux) error {
	m, err := newOTLPMetrics(s.Registry)
	if err != nil {
		return err
	}
	s.otlp = m
	s.handle(mux, "POST /v1/metrics", auth.ScopeWrite, s.otlpMetrics)
	return nil
}

// otlpMetrics takes an OTLP/HTTP export of metrics (protobuf or JSON,
// optionally gzip-compressed) and applies its points to the SLOs that read
// them. It answers as the OTLP/HTTP specification says: 200 with an
// ExportMetricsServiceResponse in the request's encoding, whose
// partial_success counts the points no SLO took and why; 415 for another
// content type; 400 with a google.rpc.Status for a body that does not
// decode; 503 with one when the store fails (exporters retry 503).
func (s *Server) otlpMetrics(w http.ResponseWriter, r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != otlpProto && mt != otlpJSON) {
		writeRPCStatus(w, otlpJSON, http.StatusUnsupportedMediaType, rpcInvalidArgument, fmt.Sprintf("Content-Type must be %s or %s, got %q", otlpProto, otlpJSON, ct))
		return nil
	}
	svc, err := s.sloService()
	if err != nil {
		writeRPCStatus(w, mt, http.StatusServiceUnavailable, rpcUnavailable, err.Error())
		return nil
	}
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		if body, err = gunzip(body, MaxOTLPBytes); err != nil {
			if errors.Is(err, errTooLarge) {
				return tandem.Errorf(tandem.ETooLarge, "OTLP request larger than %d bytes once decompressed", MaxOTLPBytes)
			}
			writeRPCStatus(w, mt, http.StatusBadRequest, rpcInvalidArgument, "gzip body: "+err.Error())
			return nil
		}
	default:
		writeRPCStatus(w, mt, http.StatusUnsupportedMediaType, rpcInvalidArgument, fmt.Sprintf("Content-Encoding %q is not supported; send gzip or none", enc))
		return nil
	}
	req := pmetricotlp.NewExportRequest()
	if mt == otlpProto {
		err = req.UnmarshalProto(body)
	} else {
		err = req.UnmarshalJSON(body)
	}
	if err != nil {
		writeRPCStatus(w, mt, http.StatusBadRequest, rpcInvalidArgument, "decode OTLP metrics: "+err.Error())
		return nil
	}
	now := s.Clock.Now()
	defs := svc.Definitions()
	mapped := sli.OTLP(req.Metrics(), sli.NewOTLPIndex(defs), now)
	res := slo.OTLPResult{}
	if len(mapped.Points) > 0 {
		byName := make(map[string]*slo.Definition, len(defs))
		for _, d := range defs {
			byName[d.Name] = d
		}
		sum := sha256.Sum256(body)
		if res, err = s.SLO.Store.IngestOTLP(r.Context(), hex.EncodeToString(sum[:]), mapped.Points, byName, now); err != nil {
			s.Log.Error("OTLP export failed", "request_id", requestIDFrom(r.Context()), "err", err)
			writeRPCStatus(w, mt, http.StatusServiceUnavailable, rpcUnavailable, "storing the points failed; retry later (request id "+requestIDFrom(r.Context())+")")
			return nil
		}
	}
	s.countOTLP(mapped, res)
	resp := pmetricotlp.NewExportResponse()
	if n := mapped.DroppedTotal(); n > 0 {
		resp.PartialSuccess().SetRejectedDataPoints(n)
		resp.PartialSuccess().SetErrorMessage(dropMessage(mapped.Dropped))
	}
	var out []byte
	if mt == otlpProto {
		out, err = resp.MarshalProto()
	} else {
		out, err = resp.MarshalJSON()
	}
	if err != nil {
		return fmt.Errorf("encode OTLP response: %w", err)
	}
	w.Header().Set("Content-Type", mt)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

func (s *Server) countOTLP(m sli.OTLPMapping, res slo.OTLPResult) {
	for reason, n := range m.Dropped {
		s.otlp.dropped.WithLabelValues(reason).Add(float64(n))
	}
	if res.Duplicate {
		s.otlp.points.WithLabelValues("duplicate").Add(float64(m.Matched))
		return
	}
	for outcome, n := range map[string]int64{"applied": res.Applied, "baseline": res.Baseline, "stale": res.Stale} {
		if n > 0 {
			s.otlp.points.WithLabelValues(outcome).Add(float64(n))
		}
	}
}

// dropMessage says why points were rejected: "12 points dropped: 10
// no_slo (no SLO reads the metric), 2 no_match (…)".
func dropMessage(dropped map[string]int64) string {
	reasons := make([]string, 0, len(dropped))
	for r := range dropped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var total int64
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		total += dropped[r]
		parts = append(parts, fmt.Sprintf("%d %s (%s)", dropped[r], r, sli.DropReasons[r]))
	}
	return fmt.Sprintf("%d points dropped: %s", total, strings.Join(parts, ", "))
}

var errTooLarge = errors.New("too large")

// gunzip decompresses b, at most limit bytes.
func gunzip(b []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, errTooLarge
	}
	return out, nil
}

// writeRPCStatus answers with a google.rpc.Status {code, message} in the
// request's encoding, as OTLP/HTTP failures carry it.
func writeRPCStatus(w http.ResponseWriter, mt string, httpStatus int, code int32, msg string) {
	var out []byte
	if mt == otlpProto {
		out = protowire.AppendTag(out, 1, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(code))
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendString(out, msg)
	} else {
		out, _ = json.Marshal(struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}{code, msg})
	}
	w.Header().Set("Content-Type", mt)
	w.WriteHeader(httpStatus)
	_, _ = w.Write(out)
}

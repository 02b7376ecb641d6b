package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/gate"
)

// GateDeps is what the CI/CD gates, post-deploy verification and migration
// checks endpoints need. With a nil Results store the endpoints are not
// served.
type GateDeps struct {
	Results *gate.Store
	// Verifier runs post-deploy verification (nil: POST /api/v1/verifications
	// answers 503).
	Verifier *gate.Verifier
	// SLO answers SLO gate requests (nil: POST /api/v1/gates/slo/evaluate
	// answers 503).
	SLO *gate.SLOGate
	// Failed runs in the transaction that records a failing result
	// (queueing its notifications), so both commit or neither does.
	Failed func(ctx context.Context, tx *db.Tx, r gate.Result) error
}

// gateRoutes registers the CI/CD gates, post-deploy verification and
// migration checks endpoints.
func (s *Server) gateRoutes(mux *http.ServeMux) {
	if s.Gate.Results == nil {
		return
	}
	s.handle(mux, "POST /api/v1/gates", auth.ScopeWrite, s.recordGate)
	s.handle(mux, "GET /api/v1/gates", auth.ScopeRead, s.listGates)
	s.handle(mux, "GET /api/v1/gates/{id}", auth.ScopeRead, s.getGate)
	s.handle(mux, "POST /api/v1/verifications", auth.ScopeWrite, s.verifyDeploy)
	s.handle(mux, "POST /api/v1/gates/slo/evaluate", auth.ScopeRead, s.evaluateSLOGate)
	s.deliveryRoutes(mux)
}

// evaluateSLOGate answers the SLO gate's checks for a service; it records
// nothing (the gate records its verdict with POST /api/v1/gates). Names
// that do not resolve are a 422 naming each, with close names.
func (s *Server) evaluateSLOGate(w http.ResponseWriter, r *http.Request) error {
	if s.Gate.SLO == nil {
		return tandem.Errorf(tandem.EUnavailable, "the SLO gate is not configured on this server")
	}
	var body gate.SLORequest
	if err := decode(r, &body); err != nil {
		return err
	}
	out, err := s.Gate.SLO.Evaluate(r.Context(), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) recordGate(w http.ResponseWriter, r *http.Request) error {
	var body gate.Result
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Service != "" {
		if err := s.checkService("service", body.Service); err != nil {
			return err
		}
	}
	if body.Actor == "" {
		if tok, ok := TokenFrom(r.Context()); ok && tok.Name != "" {
			body.Actor = "token:" + tok.Name
		}
	}
	body.ID = 0
	out, err := s.Gate.Results.RecordThen(r.Context(), body, s.Clock.Now(), s.Gate.Failed)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listGates(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := s.Clock.Now()
	f := gate.Filter{Service: q.Get("service"), Kind: q.Get("kind"), Verdict: q.Get("verdict")}
	// A misspelt kind or verdict would select nothing and read as "no
	// gate ran".
	if f.Kind != "" && !slices.Contains(gate.Kinds, f.Kind) {
		return tandem.FieldErrorf("kind", "want one of %s, got %q", strings.Join(gate.Kinds, ", "), f.Kind)
	}
	if f.Verdict != "" && !slices.Contains(gate.Verdicts, f.Verdict) {
		return tandem.FieldErrorf("verdict", "want one of %s, got %q", strings.Join(gate.Verdicts, ", "), f.Verdict)
	}
	var err error
	if f.Since, err = queryTime(r, "since", now); err != nil {
		return err
	}
	if f.Until, err = queryTime(r, "until", now); err != nil {
		return err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return tandem.FieldErrorf("limit", "want a number from 1 to 1000, got %q", v)
		}
		f.Limit = n
	}
	out, err := s.Gate.Results.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(out))
	return nil
}

func (s *Server) getGate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	out, err := s.Gate.Results.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verifyBody asks for post-deploy verification. Durations are strings
// ("15m", "1h"); zero values take the server's defaults.
type verifyBody struct {
	Service  string `json:"service"`
	DeployID int64  `json:"deploy_id"`
	Window   string `json:"window"`
	Baseline string `json:"baseline"`
}

func (s *Server) verifyDeploy(w http.ResponseWriter, r *http.Request) error {
	if s.Gate.Verifier == nil {
		return tandem.Errorf(tandem.EUnavailable, "post-deploy verification is not configured on this server")
	}
	var body verifyBody
	if err := decode(r, &body); err != nil {
		return err
	}
	if body.Service == "" && body.DeployID <= 0 {
		return tandem.FieldErrorf("service", "give a service or a deploy_id")
	}
	if body.DeployID < 0 {
		return tandem.FieldErrorf("deploy_id", "must be positive")
	}
	if body.Service != "" {
		if err := s.checkService("service", body.Service); err != nil {
			return err
		}
	}
	var o gate.VerifyOptions
	for _, d := range []struct {
		field string
		in    string
		out   *time.Duration
	}{{"window", body.Window, &o.Window}, {"baseline", body.Baseline, &o.Baseline}} {
		if d.in == "" {
			continue
		}
		v, err := tandem.ParseDuration(d.in)
		if err != nil || v <= 0 || v > 7*24*time.Hour {
			return tandem.FieldErrorf(d.field, "want a duration up to 7d such as 15m or 1h, got %q", d.in)
		}
		*d.out = v
	}
	actor := ""
	if tok, ok := TokenFrom(r.Context()); ok && tok.Name != "" {
		actor = "token:" + tok.Name
	}
	out, err := s.Gate.Verifier.Verify(r.Context(), body.Service, body.DeployID, o, actor)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

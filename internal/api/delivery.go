package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/catalog"
	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/gate"
)

// deliveryRoutes registers the progressive-delivery endpoints: the gate
// check Argo Rollouts' web metric provider polls, and the Flagger webhook.
// Both answer from the SLO gate (POST /api/v1/gates/slo/evaluate).
func (s *Server) deliveryRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /api/v1/gates/check", auth.ScopeRead, s.gateCheck)
	// Flagger sends no headers of its own: the webhook reads its token from
	// the Authorization header or the payload's metadata.token.
	s.handle(mux, "POST /api/v1/gates/flagger", "", s.flaggerWebhook)
}

// GateCheck is the answer of GET /api/v1/gates/check and of the Flagger
// webhook: the verdict first (what a controller's condition reads), then
// the numbers. A check without data has a null value and says why.
type GateCheck struct {
	Verdict     string   `json:"verdict"`
	Message     string   `json:"message"`
	Service     string   `json:"service"`
	Environment string   `json:"env"`
	SLOs        []string `json:"slos"`
	Window      string   `json:"window"`
	From        string   `json:"from"`
	To          string   `json:"to"`
	// Passed, Failed and Inconclusive count the checks by verdict.
	Passed       int          `json:"passed"`
	Failed       int          `json:"failed"`
	Inconclusive int          `json:"inconclusive"`
	Checks       []gate.Check `json:"checks"`
}

// checkParams are the query parameters of GET /api/v1/gates/check. Any
// other parameter is a 400: a misspelt limit would otherwise go unchecked.
var checkParams = []string{"service", "env", "window", "slo", "min_budget_remaining", "max_burn_rate", "burn_window", "p95_latency_ms", "respect_freeze"}

// gateCheckRequest turns the check's parameters into an SLO gate request.
// window is the window of the checks read from the data: the p95 window,
// and the burn-rate window unless burn_window names another.
func gateCheckRequest(q url.Values) (gate.SLORequest, string, error) {
	for k := range q {
		if !slices.Contains(checkParams, k) {
			field := k
			if field == "" {
				field = "query"
			}
			return gate.SLORequest{}, "", tandem.FieldErrorf(field, "unknown parameter %q: want %s", k, strings.Join(checkParams, ", "))
		}
	}
	for _, k := range checkParams {
		if k != "slo" && len(q[k]) > 1 {
			return gate.SLORequest{}, "", tandem.FieldErrorf(k, "given %d times", len(q[k]))
		}
	}
	r := gate.SLORequest{Service: q.Get("service"), SLOs: q["slo"], Window: q.Get("window"), BurnWindow: q.Get("burn_window")}
	if r.BurnWindow == "" {
		r.BurnWindow = r.Window
	}
	for _, l := range []struct {
		name string
		out  **float64
	}{{"min_budget_remaining", &r.MinBudgetRemaining}, {"max_burn_rate", &r.MaxBurnRate}, {"p95_latency_ms", &r.P95LatencyMs}} {
		v := q.Get(l.name)
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil {
			return r, "", tandem.FieldErrorf(l.name, "want a number, got %q", v)
		}
		if strings.HasSuffix(v, "%") {
			f /= 100
		}
		*l.out = &f
	}
	if v := q.Get("respect_freeze"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return r, "", tandem.FieldErrorf("respect_freeze", "want true or false, got %q", v)
		}
		r.RespectFreeze = b
	}
	return r, q.Get("env"), nil
}

// checkEnvironment resolves env for service: empty is the catalog's
// default environment; a name the service does not run in is a 422 with
// the service's environments (a typo must not read as a pass).
func (s *Server) checkEnvironment(field, service, env string) (string, error) {
	if env == "" {
		env = catalog.DefaultEnvironment
	}
	svc, ok := s.catalog().Service(service)
	if !ok {
		return env, nil // the SLO gate names the unknown service
	}
	envs := svc.Environments
	if len(envs) == 0 {
		envs = []string{catalog.DefaultEnvironment}
	}
	if !slices.Contains(envs, env) {
		msg := fmt.Sprintf("service %s does not run in environment %s (it runs in %s)", service, env, strings.Join(envs, ", "))
		return env, &tandem.Error{Code: tandem.EUnprocessable, Field: field, Message: msg}
	}
	return env, nil
}

// runCheck evaluates the SLO gate for a check request.
func (s *Server) runCheck(r *http.Request, req gate.SLORequest, envField, env string) (GateCheck, error) {
	if s.Gate.SLO == nil {
		return GateCheck{}, tandem.Errorf(tandem.EUnavailable, "the SLO gate is not configured on this server")
	}
	if strings.TrimSpace(req.Service) == "" {
		return GateCheck{}, tandem.FieldErrorf("service", "required")
	}
	env, err := s.checkEnvironment(envField, req.Service, env)
	if err != nil {
		return GateCheck{}, err
	}
	req.Environment = env
	ev, err := s.Gate.SLO.Evaluate(r.Context(), req)
	if err != nil {
		return GateCheck{}, err
	}
	out := GateCheck{Verdict: ev.Verdict, Service: ev.Service, Environment: env, SLOs: ev.SLOs, Window: ev.Window,
		From: ev.From.UTC().Format("2006-01-02T15:04:05Z"), To: ev.To.UTC().Format("2006-01-02T15:04:05Z"), Checks: ev.Checks}
	var reasons []string
	for _, c := range ev.Checks {
		switch c.Verdict {
		case gate.Pass:
			out.Passed++
		case gate.Fail:
			out.Failed++
		default:
			out.Inconclusive++
		}
		if c.Verdict != gate.Pass {
			reasons = append(reasons, fmt.Sprintf("%s %s = %s (want %s %s)%s", strings.ToUpper(c.Verdict), c.Name, c.ValueText(), c.Op, c.ThresholdText(), detail(c.Detail)))
		}
	}
	out.Message = fmt.Sprintf("SLO gate for %s in %s: %s", ev.Service, env, strings.ToUpper(ev.Verdict))
	if len(reasons) > 0 {
		out.Message += ": " + strings.Join(reasons, "; ")
	}
	return out, nil
}

func detail(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

// gateCheck answers GET /api/v1/gates/check: 200 with the verdict (pass,
// fail or inconclusive) whenever the names resolve, 400 for a bad
// parameter and 422 for names that do not resolve (an unknown service,
// SLO or environment, a service without SLOs). It records nothing.
func (s *Server) gateCheck(w http.ResponseWriter, r *http.Request) error {
	req, env, err := gateCheckRequest(r.URL.Query())
	if err != nil {
		return err
	}
	out, err := s.runCheck(r, req, "env", env)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// FlaggerPayload is the body Flagger POSTs to a webhook (its
// CanaryWebhookPayload).
type FlaggerPayload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// FlaggerHooks are the webhook types the endpoint gates; the type is named
// in the webhook's URL (?type=), since Flagger's payload does not carry it.
var FlaggerHooks = []string{"confirm-rollout", "pre-rollout", "rollout", "confirm-promotion"}

// flaggerMetadata are the metadata keys the webhook reads; the others are
// the SLO gate's limits under the names of GET /api/v1/gates/check.
var flaggerMetadata = []string{"token", "service", "env", "version"}

// StatusGateHalted answers a Flagger webhook whose check did not pass:
// Flagger halts on any status above 202 and logs the body.
const StatusGateHalted = http.StatusPreconditionFailed

// flaggerWebhook answers POST /api/v1/gates/flagger: 200 when the SLO gate
// passes, 412 with the reason when it fails or cannot evaluate, 422 for
// names that do not resolve; every evaluated call is recorded as a canary
// change event. It needs a write token, in the Authorization header or in
// metadata.token (Flagger sends no headers of its own).
func (s *Server) flaggerWebhook(w http.ResponseWriter, r *http.Request) error {
	var p FlaggerPayload
	if err := decode(r, &p); err != nil {
		return err
	}
	secret := BearerToken(r)
	if secret == "" {
		secret = p.Metadata["token"]
	}
	if secret == "" {
		return tandem.Errorf(tandem.EUnauthorized, "missing token: send Authorization: Bearer <token> or metadata.token")
	}
	tok, err := s.Tokens.Verify(r.Context(), secret)
	if err != nil {
		return err
	}
	if !tok.Scope.Allows(auth.ScopeWrite) {
		return tandem.Errorf(tandem.EForbidden, "token %q has scope %s; the Flagger webhook records a change event and needs %s", tok.Name, tok.Scope, auth.ScopeWrite)
	}
	for k := range r.URL.Query() {
		if k != "type" {
			return tandem.FieldErrorf("type", "the webhook's URL takes only ?type=, got %q", k)
		}
	}
	hook := r.URL.Query().Get("type")
	if hook == "" {
		hook = "rollout"
	}
	if !slices.Contains(FlaggerHooks, hook) {
		return tandem.FieldErrorf("type", "want one of %s, got %q", strings.Join(FlaggerHooks, ", "), hook)
	}
	req, env, envField, err := flaggerRequest(p)
	if err != nil {
		return err
	}
	out, err := s.runCheck(r, req, envField, env)
	if err != nil {
		return err
	}
	if s.Change.Store == nil {
		return tandem.Errorf(tandem.EUnavailable, "change events are not recorded on this server")
	}
	now := s.Clock.Now()
	ev := change.Event{Service: out.Service, Environment: out.Environment, Kind: change.KindCanary, Version: p.Metadata["version"],
		Source: "flagger", Actor: "token:" + tok.Name, FinishedAt: now, Status: change.StatusSuccess,
		Labels: []string{"flagger:" + hook, "phase:" + labelSafe(p.Phase), "verdict:" + out.Verdict},
		// One event per canary revision, hook and verdict: a rollout hook
		// called every interval with the same answer is one step.
		ExternalID: fmt.Sprintf("%s/%s/%s/%s/%s", p.Namespace, p.Name, p.Checksum, hook, out.Verdict)}
	if out.Verdict != gate.Pass {
		ev.Status, ev.FailureReason = change.StatusFailed, clipText(out.Message, 512)
	}
	if _, err := s.Change.Store.Apply(r.Context(), []change.Event{ev}, now); err != nil {
		return unprefix(err)
	}
	status := http.StatusOK
	if out.Verdict != gate.Pass {
		status = StatusGateHalted
	}
	writeJSON(w, status, out)
	return nil
}

// flaggerRequest is the SLO gate request of a Flagger payload, the
// environment and the field that named it: the service is metadata.service
// or the Canary's name, the environment metadata.env or its namespace, and
// the other metadata keys the limits of GET /api/v1/gates/check.
func flaggerRequest(p FlaggerPayload) (gate.SLORequest, string, string, error) {
	if strings.TrimSpace(p.Name) == "" {
		return gate.SLORequest{}, "", "", tandem.FieldErrorf("name", "required")
	}
	q := url.Values{}
	for k, v := range p.Metadata {
		switch {
		case slices.Contains(flaggerMetadata, k):
		case slices.Contains(checkParams, k) && k != "service" && k != "env":
			q.Set(k, v)
		default:
			return gate.SLORequest{}, "", "", tandem.FieldErrorf("metadata."+k, "unknown key: want %s, or a limit: %s", strings.Join(flaggerMetadata, ", "),
				strings.Join(checkParams[2:], ", "))
		}
	}
	service := p.Metadata["service"]
	if service == "" {
		service = p.Name
	}
	q.Set("service", service)
	req, _, err := gateCheckRequest(q)
	if err != nil {
		return req, "", "", prefixField(err, "metadata.")
	}
	if env := p.Metadata["env"]; env != "" {
		return req, env, "metadata.env", nil
	}
	return req, p.Namespace, "namespace", nil
}

// prefixField puts prefix before the field of an *tandem.Error.
func prefixField(err error, prefix string) error {
	if e, ok := err.(*tandem.Error); ok && e.Field != "" {
		c := *e
		c.Field = prefix + c.Field
		return &c
	}
	return err
}

// labelSafe keeps a free string to the characters a change label allows.
func labelSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			b[i] = '-'
		}
	}
	if len(b) > 50 {
		b = b[:50]
	}
	if len(b) == 0 {
		return "unknown"
	}
	return string(b)
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

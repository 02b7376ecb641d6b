package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/client"
	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/auth"
	"github.com/tandemhq/tandem/internal/change"
)

// deliveryServer is tandem with the example catalog and native SLOs, and
// data that makes checkout pass (0.05 % errors: a burn rate of 0.5 against
// 99.9 %), search-api fail (10 % errors against 99.5 %) and identity-api
// inconclusive (no data at all).
func deliveryServer(t *testing.T) *apptest.Server {
	t.Helper()
	src := apptest.ExamplesDir(t)
	dir := t.TempDir()
	for _, f := range []string{"services.yaml", "teams.yaml", "oncall.yaml", "slos-native.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := apptest.Start(t, apptest.Options{OpenAPI: true, ConfigDir: dir})
	now := time.Now()
	ingestCounts(t, srv.Client, "checkout-api-availability", now.Add(-2*time.Hour), now.Add(-time.Minute), 19990, 20000)
	ingestCounts(t, srv.Client, "search-query-failures", now.Add(-2*time.Hour), now.Add(-time.Minute), 900, 1000)
	return srv
}

func ingestCounts(t *testing.T, c *client.Client, sloName string, from, to time.Time, good, total int64) {
	t.Helper()
	var evs []client.SLOEvent
	for m := from.Truncate(time.Minute); m.Before(to); m = m.Add(time.Minute) {
		g, n := good, total
		evs = append(evs, client.SLOEvent{Time: m.Add(10 * time.Second), Good: &g, Total: &n})
	}
	if _, err := c.PostSLOEvents(context.Background(), sloName, client.SLOBatch{Source: "test", BatchID: sloName, Events: evs}); err != nil {
		t.Fatalf("ingest %s: %v", sloName, err)
	}
}

func exampleFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(apptest.ExamplesDir(t)), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// onServer points an example's URL at the test server, keeping its path
// and query as written.
func onServer(t *testing.T, raw, base string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("example URL %q: %v", raw, err)
	}
	b, _ := url.Parse(base)
	u.Scheme, u.Host = b.Scheme, b.Host
	return u.String()
}

// analysisTemplate is the part of Argo Rollouts' AnalysisTemplate
// (argoproj.io/v1alpha1) the web metric provider reads, as its CRD
// documents the fields.
type analysisTemplate struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Args []struct {
			Name      string  `yaml:"name"`
			Value     *string `yaml:"value"`
			ValueFrom *struct {
				SecretKeyRef struct {
					Name string `yaml:"name"`
					Key  string `yaml:"key"`
				} `yaml:"secretKeyRef"`
			} `yaml:"valueFrom"`
		} `yaml:"args"`
		Metrics []struct {
			Name                  string `yaml:"name"`
			Interval              string `yaml:"interval"`
			Count                 int    `yaml:"count"`
			FailureLimit          int    `yaml:"failureLimit"`
			InconclusiveLimit     int    `yaml:"inconclusiveLimit"`
			ConsecutiveErrorLimit int    `yaml:"consecutiveErrorLimit"`
			SuccessCondition      string `yaml:"successCondition"`
			FailureCondition      string `yaml:"failureCondition"`
			Provider              struct {
				Web *struct {
					Method         string `yaml:"method"`
					URL            string `yaml:"url"`
					TimeoutSeconds int    `yaml:"timeoutSeconds"`
					Headers        []struct {
						Key   string `yaml:"key"`
						Value string `yaml:"value"`
					} `yaml:"headers"`
					JSONPath string `yaml:"jsonPath"`
				} `yaml:"web"`
			} `yaml:"provider"`
		} `yaml:"metrics"`
	} `yaml:"spec"`
}

// Measurement phases of Argo Rollouts.
const (
	phaseSuccessful   = "Successful"
	phaseFailed       = "Failed"
	phaseInconclusive = "Inconclusive"
	phaseError        = "Error"
)

var argoArg = regexp.MustCompile(`\{\{\s*args\.([A-Za-z0-9_.-]+?)\s*\}\}`)

// argoSubstitute replaces {{ args.NAME }} as Argo Rollouts does before a
// measurement; an argument without a value fails the test.
func argoSubstitute(t *testing.T, s string, args map[string]string) string {
	t.Helper()
	return argoArg.ReplaceAllStringFunc(s, func(m string) string {
		name := argoArg.FindStringSubmatch(m)[1]
		v, ok := args[name]
		if !ok {
			t.Fatalf("argument %s has no value", name)
		}
		return v
	})
}

// argoJSONPath evaluates the kubernetes JSONPath forms {$} and
// {$.field.field…} the example uses; any other form fails the test, so the
// example cannot drift to syntax this check does not follow.
func argoJSONPath(t *testing.T, path string, data any) (any, error) {
	t.Helper()
	if path == "" {
		path = "{$}"
	}
	if !strings.HasPrefix(path, "{$") || !strings.HasSuffix(path, "}") {
		t.Fatalf("jsonPath %q: want {$.field…}", path)
	}
	rest := strings.TrimSuffix(strings.TrimPrefix(path, "{$"), "}")
	v := data
	for rest != "" {
		if !strings.HasPrefix(rest, ".") {
			t.Fatalf("jsonPath %q: only .field steps are followed here", path)
		}
		rest = rest[1:]
		field := rest
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			field, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not found", field)
		}
		if v, ok = m[field]; !ok {
			return nil, fmt.Errorf("%s is not found", field)
		}
	}
	return v, nil
}

// argoCondition evaluates a condition with github.com/expr-lang/expr and
// the result variable, as Argo Rollouts does.
func argoCondition(cond string, result any) (bool, error) {
	env := map[string]any{"result": result}
	p, err := expr.Compile(cond, expr.Env(env))
	if err != nil {
		return false, err
	}
	out, err := expr.Run(p, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expected bool, got %T", out)
	}
	return b, nil
}

// argoMeasure takes one measurement the way Argo Rollouts' web metric
// provider does: the method (GET by default), the headers set from the
// template, a client timeout of timeoutSeconds (10 s by default); a
// non-2xx answer is an Error; the JSON body's jsonPath value is the result,
// and the conditions decide: failure wins, neither is Inconclusive.
func argoMeasure(t *testing.T, tpl analysisTemplate, base string, args map[string]string) (string, any, error) {
	t.Helper()
	m := tpl.Spec.Metrics[0]
	web := m.Provider.Web
	method := http.MethodGet
	if web.Method != "" {
		method = web.Method
	}
	req, err := http.NewRequest(method, onServer(t, argoSubstitute(t, web.URL, args), base), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = make(http.Header)
	for _, h := range web.Headers {
		req.Header.Set(h.Key, argoSubstitute(t, h.Value, args))
	}
	timeout := 10 * time.Second
	if web.TimeoutSeconds > 0 {
		timeout = time.Duration(web.TimeoutSeconds) * time.Second
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return phaseError, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return phaseError, nil, fmt.Errorf("received non 2xx response code: %v: %s", resp.StatusCode, b)
	}
	var data any
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	result, err := argoJSONPath(t, web.JSONPath, data)
	if err != nil {
		return phaseError, nil, err
	}
	ok, err := argoCondition(m.SuccessCondition, result)
	if err != nil {
		return phaseError, result, err
	}
	bad, err := argoCondition(m.FailureCondition, result)
	if err != nil {
		return phaseError, result, err
	}
	switch {
	case bad:
		return phaseFailed, result, nil
	case !ok:
		return phaseInconclusive, result, nil
	}
	return phaseSuccessful, result, nil
}

// TestArgoRolloutsExample parses examples/argo-rollouts, sends the requests
// Argo Rollouts' web provider makes from it to a real tandem and evaluates
// the example's conditions on the answers: a service whose SLOs hold is
// Successful, one burning budget Failed, one without data Inconclusive, and
// a misspelt service an Error (the 422 fails closed).
func TestArgoRolloutsExample(t *testing.T) {
	var tpl analysisTemplate
	dec := yaml.NewDecoder(bytes.NewReader(exampleFile(t, "argo-rollouts/analysis-template.yaml")))
	dec.KnownFields(true)
	if err := dec.Decode(&tpl); err != nil {
		t.Fatal(err)
	}
	if tpl.APIVersion != "argoproj.io/v1alpha1" || tpl.Kind != "AnalysisTemplate" || len(tpl.Spec.Metrics) != 1 || tpl.Spec.Metrics[0].Provider.Web == nil {
		t.Fatalf("not a one-metric web AnalysisTemplate: %+v", tpl)
	}
	var rollout struct {
		Spec struct {
			Strategy struct {
				Canary struct {
					Steps []struct {
						Analysis *struct {
							Templates []struct {
								TemplateName string `yaml:"templateName"`
							} `yaml:"templates"`
						} `yaml:"analysis"`
					} `yaml:"steps"`
				} `yaml:"canary"`
			} `yaml:"strategy"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(exampleFile(t, "argo-rollouts/rollout.yaml"), &rollout); err != nil {
		t.Fatal(err)
	}
	uses := 0
	for _, s := range rollout.Spec.Strategy.Canary.Steps {
		if s.Analysis != nil && s.Analysis.Templates[0].TemplateName == "tandem-slo-gate" {
			uses++
		}
	}
	if uses == 0 {
		t.Fatal("rollout.yaml runs no tandem-slo-gate analysis")
	}

	srv := deliveryServer(t)
	read := srv.Token(t, "argo-rollouts", auth.ScopeRead)
	args := map[string]string{}
	for _, a := range tpl.Spec.Args {
		switch {
		case a.Value != nil:
			args[a.Name] = *a.Value
		case a.ValueFrom != nil && a.ValueFrom.SecretKeyRef.Key == "read-token":
			args[a.Name] = read
		}
	}
	for _, c := range []struct{ service, want string }{
		{"checkout", phaseSuccessful},
		{"search-api", phaseFailed},
		{"identity-api", phaseInconclusive},
		{"chekout", phaseError},
	} {
		args["service"] = c.service
		phase, result, err := argoMeasure(t, tpl, srv.URL, args)
		if phase != c.want {
			t.Errorf("%s: %s (result %v, %v), want %s", c.service, phase, result, err, c.want)
		}
		if c.want == phaseError && (err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "did you mean checkout")) {
			t.Errorf("%s: %v, want a 422 naming checkout", c.service, err)
		}
	}
	// An environment the service does not run in is not a pass either.
	args["service"], args["env"] = "checkout", "prod"
	if phase, _, err := argoMeasure(t, tpl, srv.URL, args); phase != phaseError || !strings.Contains(err.Error(), "does not run in environment prod") {
		t.Errorf("env prod: %s %v", phase, err)
	}
	// Without the token the check is refused.
	args["env"], args["tandem-token"] = "production", ""
	if phase, _, err := argoMeasure(t, tpl, srv.URL, args); phase != phaseError || !strings.Contains(err.Error(), "401") {
		t.Errorf("no token: %s %v", phase, err)
	}
}

// TestGateCheck reads the check's answer: the numbers with the verdict,
// null where nothing was measured, and a 400 for a misspelt parameter.
func TestGateCheck(t *testing.T) {
	srv := deliveryServer(t)
	read := srv.Token(t, "reader", auth.ScopeRead)
	get := func(q string) (int, map[string]any) {
		t.Helper()
		code, _, b := call(t, http.MethodGet, srv.URL+"/api/v1/gates/check?"+q, read, nil)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s: %s", q, b)
		}
		return code, out
	}
	code, out := get("service=checkout&env=production&window=10m&max_burn_rate=2")
	checks, _ := out["checks"].([]any)
	if code != 200 || out["verdict"] != "pass" || out["window"] != "10m" || out["env"] != "production" || len(checks) != 1 {
		t.Fatalf("pass: %d %v", code, out)
	}
	c := checks[0].(map[string]any)
	if c["name"] != "burn_rate_10m checkout-api-availability" || c["value"] != 0.5 || c["threshold"] != 2.0 {
		t.Errorf("check %v", c)
	}
	code, out = get("service=identity-api&window=10m&max_burn_rate=2")
	checks, _ = out["checks"].([]any)
	if code != 200 || out["verdict"] != "inconclusive" || len(checks) != 1 || checks[0].(map[string]any)["value"] != nil ||
		out["inconclusive"] != 1.0 || !strings.Contains(out["message"].(string), "no data") {
		t.Errorf("no data: %d %v", code, out)
	}
	for q, want := range map[string]string{
		"service=checkout&max_burn=2":                 "unknown parameter",
		"service=checkout&max_burn_rate=lots":         "want a number",
		"service=checkout&window=soon":                "want a duration",
		"env=production":                              "required",
		"service=checkout&slo=checkout-api-avail":     "unknown SLO",
		"service=ci-runners":                          "has no SLO",
		"service=checkout&env=staging&env=production": "given 2 times",
		// checkout runs in staging but its SLOs are production's: a
		// staging check must not read them and pass.
		"service=checkout&env=staging": "staging",
	} {
		code, out := get(q)
		if code < 400 || code > 422 || !strings.Contains(fmt.Sprint(out), want) {
			t.Errorf("%s: %d %v, want %q", q, code, out, want)
		}
	}
}

// canarySpec is the part of Flagger's Canary (flagger.app/v1beta1) that
// defines its webhooks; metadata is a map of strings, as Flagger's is.
type canarySpec struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string `yaml:"name"`
		Namespace string `yaml:"namespace"`
	} `yaml:"metadata"`
	Spec struct {
		Analysis struct {
			Webhooks []struct {
				Name     string            `yaml:"name"`
				Type     string            `yaml:"type"`
				URL      string            `yaml:"url"`
				Timeout  string            `yaml:"timeout"`
				Metadata map[string]string `yaml:"metadata"`
			} `yaml:"webhooks"`
		} `yaml:"analysis"`
	} `yaml:"spec"`
}

// flaggerPayload is Flagger's CanaryWebhookPayload, in its field order.
type flaggerPayload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// flaggerCall sends what Flagger sends to a webhook: a POST of the JSON
// payload with Content-Type application/json and nothing else, with the
// webhook's timeout (10 s by default); Flagger advances on 200-202.
func flaggerCall(t *testing.T, hookURL, timeout string, p flaggerPayload) (int, string) {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if timeout == "" {
		timeout = "10s"
	}
	d, err := time.ParseDuration(timeout)
	if err != nil {
		t.Fatalf("timeout %q: %v", timeout, err)
	}
	resp, err := (&http.Client{Timeout: d}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestFlaggerExample parses examples/flagger/canary.yaml and sends each of
// its webhooks the payload Flagger sends: checkout's SLOs hold, so every
// hook answers 200 and a canary change event is recorded per hook; the
// same hooks for a burning service and for one without data halt the
// canary with the reason; a misspelt service, a missing or read-only token
// are refused.
func TestFlaggerExample(t *testing.T) {
	var c canarySpec
	dec := yaml.NewDecoder(bytes.NewReader(exampleFile(t, "flagger/canary.yaml")))
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.APIVersion != "flagger.app/v1beta1" || c.Kind != "Canary" {
		t.Fatalf("not a Canary: %+v", c)
	}
	types := map[string]bool{}
	for _, h := range c.Spec.Analysis.Webhooks {
		types[h.Type] = true
	}
	for _, want := range []string{"confirm-rollout", "pre-rollout", "rollout", "confirm-promotion"} {
		if !types[want] {
			t.Errorf("no %s webhook in the example", want)
		}
	}
	srv := deliveryServer(t)
	write := srv.Token(t, "flagger", auth.ScopeWrite)
	send := func(service string, mutate func(map[string]string)) (codes []int, bodies []string) {
		t.Helper()
		for _, h := range c.Spec.Analysis.Webhooks {
			md := map[string]string{}
			for k, v := range h.Metadata {
				md[k] = strings.ReplaceAll(v, "${TANDEM_FLAGGER_TOKEN}", write)
			}
			if service != "" {
				md["service"] = service
			}
			if mutate != nil {
				mutate(md)
			}
			// confirm-rollout is sent with the canary's own phase, the
			// others with Progressing.
			phase := "Progressing"
			if h.Type == "confirm-rollout" {
				phase = "Initialized"
			}
			code, body := flaggerCall(t, onServer(t, h.URL, srv.URL), h.Timeout,
				flaggerPayload{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Phase: phase, Checksum: "85d557f47b", Metadata: md})
			codes, bodies = append(codes, code), append(bodies, body)
		}
		return codes, bodies
	}
	codes, bodies := send("", nil)
	for i, code := range codes {
		if code != http.StatusOK || !strings.Contains(bodies[i], `"verdict":"pass"`) {
			t.Errorf("checkout hook %d: %d %s", i, code, bodies[i])
		}
	}
	// Called again (a rollout hook every interval), nothing new is recorded.
	send("", nil)
	evs, err := srv.Main.API.Change.Store.List(context.Background(), change.Filter{Services: []string{"checkout"}, Kinds: []string{change.KindCanary}})
	if err != nil || len(evs) != 4 {
		t.Fatalf("canary events %d %v", len(evs), err)
	}
	for _, e := range evs {
		if e.Source != "flagger" || e.Environment != "production" || e.Status != change.StatusSuccess || e.Actor != "token:flagger" ||
			!e.HasLabel("verdict:pass") || !strings.HasPrefix(e.ExternalID, "shop/checkout/85d557f47b/") {
			t.Errorf("event %+v", e)
		}
	}
	// search-api burns its budget: every hook halts and says why.
	codes, bodies = send("search-api", nil)
	for i, code := range codes {
		if code != http.StatusPreconditionFailed || !strings.Contains(bodies[i], `"verdict":"fail"`) || !strings.Contains(bodies[i], "FAIL ") {
			t.Errorf("search-api hook %d: %d %s", i, code, bodies[i])
		}
	}
	failed, err := srv.Main.API.Change.Store.List(context.Background(), change.Filter{Services: []string{"search-api"}, Kinds: []string{change.KindCanary}})
	if err != nil || len(failed) != 4 {
		t.Fatalf("search-api events %d %v", len(failed), err)
	}
	for _, e := range failed {
		if e.Status != change.StatusFailed || !strings.Contains(e.FailureReason, "FAIL ") || !e.HasLabel("verdict:fail") {
			t.Errorf("failed step %+v", e)
		}
	}
	// The token may come in the Authorization header instead (a proxy in
	// front of tandem that adds it).
	hook := c.Spec.Analysis.Webhooks[0]
	b, _ := json.Marshal(flaggerPayload{Name: "checkout", Namespace: "shop", Phase: "Progressing", Checksum: "85d557f47b",
		Metadata: map[string]string{"env": "production"}})
	code, _, body := call(t, http.MethodPost, onServer(t, hook.URL, srv.URL), write, bytes.NewReader(b), "Content-Type", "application/json")
	if code != http.StatusOK || !strings.Contains(string(body), `"verdict":"pass"`) {
		t.Errorf("header token: %d %s", code, body)
	}
	// A misspelt hook type or another URL parameter is refused.
	for _, q := range []string{"?type=confirm-rolout", "?type=rollout&token=x"} {
		code, _, body := call(t, http.MethodPost, srv.URL+"/api/v1/gates/flagger"+q, write, bytes.NewReader(b), "Content-Type", "application/json")
		if code != http.StatusBadRequest || !strings.Contains(string(body), `"field":"type"`) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	// identity-api has no data: no hook passes.
	codes, bodies = send("identity-api", nil)
	for i, code := range codes {
		if code != http.StatusPreconditionFailed || !strings.Contains(bodies[i], `"verdict":"inconclusive"`) {
			t.Errorf("identity-api hook %d: %d %s", i, code, bodies[i])
		}
	}
	ro := srv.Token(t, "flagger-read", auth.ScopeRead)
	for name, c := range map[string]struct {
		service string
		mutate  func(map[string]string)
		code    int
		want    string
	}{
		"misspelt service": {"chekout", nil, 422, "did you mean checkout"},
		"unknown env":      {"", func(m map[string]string) { m["env"] = "prod" }, 422, "does not run in environment prod"},
		"namespace as env": {"", func(m map[string]string) { delete(m, "env") }, 422, "does not run in environment shop"},
		"no token":         {"", func(m map[string]string) { delete(m, "token") }, 401, "missing token"},
		"bad token":        {"", func(m map[string]string) { m["token"] = "tdm_nope" }, 401, ""},
		"read token":       {"", func(m map[string]string) { m["token"] = ro }, 403, "needs write"},
		"misspelt limit":   {"", func(m map[string]string) { m["max_burn"] = "2" }, 400, "metadata.max_burn"},
	} {
		codes, bodies := send(c.service, c.mutate)
		for i, code := range codes {
			if code != c.code || !strings.Contains(bodies[i], c.want) {
				t.Errorf("%s hook %d: %d %s", name, i, code, bodies[i])
			}
		}
	}
}

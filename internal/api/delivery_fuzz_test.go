package api

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"github.com/tandemhq/tandem"
)

// FuzzGateCheckQuery: any query string of GET /api/v1/gates/check is either
// an invalid error naming a parameter, or a request carrying the service
// and limits it was given.
func FuzzGateCheckQuery(f *testing.F) {
	f.Add("service=checkout&env=production&window=10m&max_burn_rate=2")
	f.Add("service=checkout&min_budget_remaining=10%25&slo=a&slo=b&respect_freeze=true")
	f.Add("service=checkout&p95_latency_ms=1e400&burn_window=1h")
	f.Add("max_burn=2&service=%zz")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, env, err := gateCheckRequest(q)
		if err != nil {
			e, ok := err.(*tandem.Error)
			if !ok || e.Code != tandem.EInvalid || e.Field == "" {
				t.Fatalf("gateCheckRequest(%q) = %v, want an invalid error naming a parameter", raw, err)
			}
			return
		}
		if r.Service != q.Get("service") || env != q.Get("env") || len(r.SLOs) != len(q["slo"]) {
			t.Fatalf("gateCheckRequest(%q) = %+v, %q", raw, r, env)
		}
		if (q.Get("max_burn_rate") != "") != (r.MaxBurnRate != nil) || (q.Get("window") != "" && q.Get("burn_window") == "" && r.BurnWindow != q.Get("window")) {
			t.Fatalf("gateCheckRequest(%q) lost a limit: %+v", raw, r)
		}
		for k := range q {
			if !slices.Contains(checkParams, k) {
				t.Fatalf("gateCheckRequest(%q) accepted parameter %q", raw, k)
			}
		}
	})
}

// FuzzFlaggerPayload: any body decoded as Flagger's payload either is an
// invalid error naming a field, or a request for metadata.service or the
// Canary's name, with the environment from metadata.env or the namespace.
func FuzzFlaggerPayload(f *testing.F) {
	f.Add([]byte(`{"name":"checkout","namespace":"shop","phase":"Progressing","checksum":"85d557f47b","metadata":{"token":"x","env":"production","max_burn_rate":"2"}}`))
	f.Add([]byte(`{"name":"checkout","namespace":"test","phase":"Initialized","checksum":"1","metadata":{"service":"search-api","window":"10m"}}`))
	f.Add([]byte(`{"name":"","namespace":"","phase":"","checksum":"","metadata":{"cmd":"hey"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p FlaggerPayload
		if json.Unmarshal(b, &p) != nil {
			return
		}
		r, env, field, err := flaggerRequest(p)
		if err != nil {
			e, ok := err.(*tandem.Error)
			if !ok || e.Code != tandem.EInvalid || e.Field == "" {
				t.Fatalf("flaggerRequest(%s) = %v, want an invalid error naming a field", b, err)
			}
			return
		}
		wantService, wantEnv, wantField := p.Metadata["service"], p.Metadata["env"], "metadata.env"
		if wantService == "" {
			wantService = p.Name
		}
		if wantEnv == "" {
			wantEnv, wantField = p.Namespace, "namespace"
		}
		if r.Service != wantService || env != wantEnv || field != wantField {
			t.Fatalf("flaggerRequest(%s) = %+v %q %q", b, r, env, field)
		}
	})
}

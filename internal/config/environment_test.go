package config

import (
	"strings"
	"testing"
	"time"
)

// An SLO's environment is OpenSLO's metadata.labels.environment or the short
// form's environment field, production when neither names one; a name that
// cannot be an environment is an error at its line.
func TestSLOEnvironment(t *testing.T) {
	staging := strings.Replace(goodSLO, "  name: a\n", "  name: a\n  labels: {environment: staging, team: payments}\n", 1)
	short := `slos:
  - name: b
    service: checkout
    environment: staging
    objective: 0.99
    window: 7d
    ingest: {}
  - name: c
    service: checkout
    objective: 0.99
    window: 7d
    ingest: {}
`
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(staging), "short.yaml": []byte(short)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "staging", "b": "staging", "c": "production"} {
		d, _ := cfg.SLO.Get(name)
		if d == nil || d.Environment != want || d.Env() != want {
			t.Errorf("SLO %s: environment %+v, want %s", name, d, want)
		}
	}
	if b, _ := cfg.SLO.Get("b"); b.Labels["environment"] != "staging" {
		t.Errorf("short form labels %v, want environment=staging for the rules and alerts", b.Labels)
	}
	cfg, err = Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(goodSLO)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := cfg.SLO.Get("a"); a.Environment != "production" {
		t.Errorf("default environment %q", a.Environment)
	}
	for doc, want := range map[string]string{
		strings.Replace(goodSLO, "  name: a\n", "  name: a\n  labels: {environment: \"pre prod\"}\n", 1): "metadata.labels.environment",
		strings.Replace(short, "environment: staging", "environment: \"a/b\"", 1):                        "slos.b.environment",
	} {
		if _, err := Parse(map[string][]byte{"catalog.yaml": []byte(catalogYAML), "slo.yaml": []byte(doc)}, time.Now()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error at %s", err, want)
		}
	}
}

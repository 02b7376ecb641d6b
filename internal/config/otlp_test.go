package config

import (
	"os"
	"reflect"
	"testing"

	"github.com/tandemhq/tandem/internal/slo"
)

// An OTLP ratio SLI becomes one selector: total's attributes select the
// points (values sorted, repeats dropped), good's narrow them.
func TestOTLPSelector(t *testing.T) {
	b, err := os.ReadFile("testdata/slo/otlp.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse(map[string][]byte{"otlp.good.yaml": b}, now)
	if err != nil {
		t.Fatal(err)
	}
	def, ok := cfg.SLO.Get("checkout-latency-otlp")
	if !ok {
		t.Fatal("SLO missing")
	}
	want := &slo.OTLPSelector{
		Metric: "http.server.request.duration",
		Match: []slo.AttrMatcher{
			{Key: "http.request.method", Values: []string{"GET", "POST"}},
			{Key: "service.name", Values: []string{"checkout"}},
		},
		Good:         []slo.AttrMatcher{{Key: "http.request.method", Values: []string{"GET"}}},
		MaxStatus:    500,
		LatencyMaxMs: 250,
	}
	if def.Indicator.Source != slo.SourceNative || !reflect.DeepEqual(def.Indicator.OTLP, want) {
		t.Errorf("indicator %+v, OTLP %+v", def.Indicator, def.Indicator.OTLP)
	}
}

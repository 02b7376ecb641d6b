package importer

import (
	"os"
	"path/filepath"
	"testing"
)

// Every reader of outside input: no input panics or hangs; each either
// errors or returns a result.

func seed(f *testing.F, glob string) {
	names, _ := filepath.Glob(glob)
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
}

func FuzzPagerDutyHCL(f *testing.F) {
	seed(f, "testdata/pagerduty-terraform/*.tf")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = PagerDutyHCL(map[string][]byte{"main.tf": b}, NewNamer(nil))
	})
}

func FuzzPagerDutyJSON(f *testing.F) {
	seed(f, "testdata/pagerduty-api/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = PagerDutyJSON(map[string][]byte{"schedules.json": b}, NewNamer(nil))
	})
}

func FuzzOpsgenie(f *testing.F) {
	seed(f, "testdata/opsgenie/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []string{"users.json", "schedules.json", "escalations.json", "overrides.json", "teams.json"} {
			_, _ = Opsgenie(map[string][]byte{n: b}, NewNamer(nil))
		}
	})
}

func FuzzGrafanaOnCall(f *testing.F) {
	seed(f, "testdata/grafana-oncall/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []string{"users.json", "schedules.json", "on_call_shifts.json", "escalation_chains.json", "escalation_policies.json"} {
			_, _ = GrafanaOnCall(map[string][]byte{n: b}, NewNamer(nil))
		}
	})
}

func FuzzSloth(f *testing.F) {
	seed(f, "testdata/sloth/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Sloth("slos.yaml", b, slothGoogle(SlothPeriod), NewNamer(nil), SLOOptions{})
	})
}

func FuzzPyrra(f *testing.F) {
	seed(f, "testdata/pyrra/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Pyrra("slos.yaml", b, NewNamer(nil), SLOOptions{})
	})
}

func FuzzBackstage(f *testing.F) {
	seed(f, "testdata/backstage/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Backstage(map[string][]byte{"catalog-info.yaml": b}, NewNamer(nil))
	})
}

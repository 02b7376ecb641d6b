package importer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
)

// Every reader of outside input: no input panics or hangs, and whatever
// an import accepts it writes as files tandem's loader accepts, with no
// hand edits.

func seed(f *testing.F, glob string) {
	names, _ := filepath.Glob(glob)
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
}

// valid fails the test when a result does not load.
func valid(t *testing.T, r *Result, err error) {
	t.Helper()
	if err != nil {
		return
	}
	files, err := Render(r, "fuzz", "fuzz")
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if _, err := config.Parse(map[string][]byte{files[0].Name: files[0].Data}, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("the import's output does not load: %v\n%s", err, files[0].Data)
	}
}

func FuzzPagerDutyHCL(f *testing.F) {
	seed(f, "testdata/pagerduty-terraform/*.tf")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := PagerDutyHCL(map[string][]byte{"main.tf": b}, NewNamer(nil))
		valid(t, r, err)
	})
}

func FuzzPagerDutyJSON(f *testing.F) {
	seed(f, "testdata/pagerduty-api/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := PagerDutyJSON(map[string][]byte{"schedules.json": b}, NewNamer(nil))
		valid(t, r, err)
	})
}

func FuzzOpsgenie(f *testing.F) {
	seed(f, "testdata/opsgenie/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []string{"users.json", "schedules.json", "escalations.json", "overrides.json", "teams.json"} {
			r, err := Opsgenie(map[string][]byte{n: b}, NewNamer(nil))
			valid(t, r, err)
		}
	})
}

func FuzzGrafanaOnCall(f *testing.F) {
	seed(f, "testdata/grafana-oncall/*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []string{"users.json", "teams.json", "schedules.json", "on_call_shifts.json", "escalation_chains.json", "escalation_policies.json"} {
			r, err := GrafanaOnCall(map[string][]byte{n: b}, NewNamer(nil))
			valid(t, r, err)
		}
	})
}

func FuzzSloth(f *testing.F) {
	seed(f, "testdata/sloth/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Sloth("slos.yaml", b, slothGoogle(SlothPeriod), NewNamer(nil), SLOOptions{})
		valid(t, r, err)
	})
}

func FuzzSlothWindows(f *testing.F) {
	seed(f, "testdata/sloth/windows/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		ws, err := ParseSlothWindows("windows.yaml", b)
		if err != nil {
			return
		}
		for _, w := range ws {
			if w.Period <= 0 || len(w.Burns()) != 4 {
				t.Fatalf("accepted windows %+v", w)
			}
		}
	})
}

func FuzzPyrra(f *testing.F) {
	seed(f, "testdata/pyrra/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Pyrra("slos.yaml", b, NewNamer(nil), SLOOptions{})
		valid(t, r, err)
	})
}

func FuzzBackstage(f *testing.F) {
	seed(f, "testdata/backstage/*.yaml")
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Backstage(map[string][]byte{"catalog-info.yaml": b}, NewNamer(nil))
		valid(t, r, err)
	})
}

package alerting

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/slo"
	"github.com/tandemhq/tandem/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func loadDefs(t testing.TB) []*slo.Definition {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", "config"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cfg.SLO.Definitions
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated output; run go test ./internal/alerting -update and review the diff", path)
	}
}

// TestRulesGolden writes the rules of testdata/config in two files, the
// SLOs budgeted by occurrences (rules.golden.yaml) and those in time
// slices (rules_slices.golden.yaml), each loaded by its promtool cases:
// the slice rules are the costliest to evaluate, and the occurrence cases
// need not pay for them.
func TestRulesGolden(t *testing.T) {
	var occ, slices []*slo.Definition
	for _, d := range loadDefs(t) {
		if d.Method == slo.Timeslices || d.Indicator.IsThreshold() {
			slices = append(slices, d)
		} else {
			occ = append(occ, d)
		}
	}
	for name, defs := range map[string][]*slo.Definition{"rules.golden.yaml": occ, "rules_slices.golden.yaml": slices} {
		b, err := Rules(defs)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, b)
		// The native SLO has no rules: tandem evaluates it itself.
		if bytes.Contains(b, []byte("checkout-native")) {
			t.Error("rules for a native SLO")
		}
		// No rule divides by a total that may be zero.
		if bytes.Contains(b, []byte("/ sum(")) {
			t.Error("a division by an unguarded total")
		}
	}
}

// TestPromtool runs promtool check rules on the golden rules and promtool
// test rules on the repository's cases: rules_test.yaml (a burn that pages
// and tickets, low traffic that does not, Sloth's queries, alertAfter as
// for:, an exact op, labels) and rules_slices_test.yaml (an idle latency
// histogram records nothing and never pages; busy ones; the minimum-event
// guard of time-slice SLOs).
func TestPromtool(t *testing.T) {
	bin := testenv.Binary(t, "TANDEM_TEST_PROMTOOL", "promtool")
	// The example config's rules, as `tandem slo rules` writes them.
	cfg, err := config.Load(filepath.Join("..", "..", "examples", "tandem.d"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Rules(cfg.SLO.Definitions)
	if err != nil {
		t.Fatal(err)
	}
	exFile := filepath.Join(t.TempDir(), "examples.rules.yaml")
	if err := os.WriteFile(exFile, ex, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"check", "rules", "rules.golden.yaml", "rules_slices.golden.yaml"},
		{"check", "rules", exFile},
		{"test", "rules", "rules_test.yaml"},
		{"test", "rules", "rules_slices_test.yaml"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = "testdata"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestDashboardGolden(t *testing.T) {
	defs := loadDefs(t)
	b, err := Dashboard(defs, DashboardOptions{TandemURL: "https://tandem.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dashboard.golden.json", b)
	var d struct {
		Panels []struct {
			Type, Title string
			FieldConfig struct {
				Defaults struct {
					Thresholds struct {
						Steps []struct {
							Color string
							Value *float64
						}
					}
				}
			} `json:"fieldConfig"`
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	gauges := 0
	for _, p := range d.Panels {
		if p.Type != "gauge" {
			continue
		}
		gauges++
		s := p.FieldConfig.Defaults.Thresholds.Steps
		if p.Title != "Error Budget Remaining" || len(s) != 3 || s[1].Color != "yellow" || *s[1].Value != 0.1 || s[2].Color != "green" || *s[2].Value != 0.5 {
			t.Errorf("gauge %+v", p)
		}
	}
	if gauges != len(defs) {
		t.Errorf("%d gauges for %d SLOs", gauges, len(defs))
	}
	one, err := Dashboard(defs, DashboardOptions{Service: "payments-api"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(one, []byte("checkout-availability")) || !bytes.Contains(one, []byte("payments-p95")) {
		t.Error("--service filter not applied")
	}
}

// BenchmarkRules1000 generates rules for 1,000 SLOs (target: under 1 s).
func BenchmarkRules1000(b *testing.B) {
	base := loadDefs(b)[0]
	defs := make([]*slo.Definition, 1000)
	for i := range defs {
		d := *base
		d.Name = fmt.Sprintf("slo-%04d", i)
		defs[i] = &d
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Rules(defs); err != nil {
			b.Fatal(err)
		}
	}
}

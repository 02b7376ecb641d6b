package app_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/testenv"
)

// The sample rules for tandem's own health: promtool accepts them, its
// unit tests (examples/deploy/prometheus/tandem-health.test.yaml) pass
// with each alert idle and firing, every tandem series they read is in
// the /metrics catalogue, and docs/operations.md names exactly these
// alerts.
func TestHealthRules(t *testing.T) {
	promtool := testenv.Binary(t, "TANDEM_TEST_PROMTOOL", "promtool")
	dir := filepath.Join("..", "..", "examples", "deploy", "prometheus")
	rules := filepath.Join(dir, "tandem-health.rules.yaml")
	if out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	cmd := exec.Command(promtool, "test", "rules", "tandem-health.test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}

	text, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(dir, "tandem-health.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, doc := operationsMD(t)
	i, j := strings.Index(doc, metricsBegin), strings.Index(doc, metricsEnd)
	if i < 0 || j < i {
		t.Fatal("docs/operations.md has no metrics catalogue")
	}
	catalogue := doc[i:j]
	for _, name := range slices.Compact(slices.Sorted(slices.Values(regexp.MustCompile(`\btandem_[a-z0-9_]+`).FindAllString(string(text), -1)))) {
		if !strings.Contains(catalogue, "| `"+name+"` |") {
			t.Errorf("the rules read %s, which tandem does not export (not in the catalogue)", name)
		}
	}
	var alerts []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(string(text), -1) {
		alerts = append(alerts, m[1])
		idle := regexp.MustCompile(`alertname: ` + m[1] + `, exp_alerts: \[\]`)
		firing := regexp.MustCompile(`alertname: ` + m[1] + `\n\s+exp_alerts:\n\s+- exp_labels`)
		if !idle.Match(tests) || !firing.Match(tests) {
			t.Errorf("alert %s needs an idle and a firing case in tandem-health.test.yaml", m[1])
		}
	}
	section := doc[strings.Index(doc, "### Alerts on tandem's own health"):]
	if k := strings.Index(section[4:], "\n## "); k >= 0 {
		section = section[:k+4]
	}
	var documented []string
	for _, m := range regexp.MustCompile(`\*\*(Tandem\w+)\*\*`).FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(alerts)
	slices.Sort(documented)
	if !slices.Equal(alerts, documented) {
		t.Errorf("docs/operations.md describes the alerts %v; the rules file has %v", documented, alerts)
	}
}

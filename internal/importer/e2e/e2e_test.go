// Package e2e_test imports each source's fixtures with the CLI, validates
// the result, boots a real tandem on it and asks it who is on call (or
// writes the SLO rules).
package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/cli"
	"github.com/tandemhq/tandem/internal/testenv"
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestImportEachSource(t *testing.T) {
	td := "../testdata/"
	for _, c := range []struct {
		name     string
		args     []string
		schedule string // asked with oncall who; empty: slo rules
		want     string
	}{
		{"pagerduty-terraform", []string{"import", "pagerduty", "--terraform", td + "pagerduty-terraform"}, "payments-primary", "payments-primary"},
		{"pagerduty-api", []string{"import", "pagerduty", "--api-export", td + "pagerduty-api"}, "sre-primary", "sre-primary"},
		{"opsgenie", []string{"import", "opsgenie", "--export", td + "opsgenie"}, "ops_schedule", "ops_schedule"},
		{"grafana-oncall", []string{"import", "grafana-oncall", "--export", td + "grafana-oncall"}, "demo-schedule-calendar", "demo-schedule-calendar"},
		{"backstage", []string{"import", "backstage", td + "backstage"}, "", ""},
		{"sloth", []string{"import", "sloth", td + "sloth/slos.yaml"}, "", `slo:sli_error:ratio_rate1h{slo=\"myservice-requests-availability\"} > (14.4 * 0.001`},
		{"pyrra", []string{"import", "pyrra", td + "pyrra/slos.yaml"}, "", `slo:sli_error:ratio_rate1h{slo=\"prometheus-http-errors\"} > (14 * 0.01`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tandem.d")
			// Dry run writes nothing.
			out, errOut, code := run(t, append(c.args, "--out", dir, "--dry-run")...)
			if code != 0 || !strings.Contains(out, "would write") || !strings.Contains(out, "would import") {
				t.Fatalf("dry run: %d\n%s\n%s", code, out, errOut)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("dry run created the directory")
			}
			out, errOut, code = run(t, append(c.args, "--out", dir)...)
			if code != 0 || !strings.Contains(out, "imported ") {
				t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "warning: ") {
				t.Errorf("no warnings printed:\n%s", errOut)
			}
			// A second run refuses to overwrite without --force.
			if _, errOut, code := run(t, append(c.args, "--out", dir)...); code == 0 || !strings.Contains(errOut, "--force") {
				t.Errorf("second run without --force: %d %s", code, errOut)
			}
			if out, errOut, code := run(t, append(c.args, "--out", dir, "--force")...); code != 0 {
				t.Fatalf("--force: %d\n%s\n%s", code, out, errOut)
			}
			if out, errOut, code := run(t, "config", "validate", dir); code != 0 {
				t.Fatalf("config validate: %s %s", out, errOut)
			}
			srv := apptest.Start(t, apptest.Options{ConfigDir: dir})
			switch {
			case c.schedule != "":
				out, errOut, code := run(t, "oncall", "who", "--schedule", c.schedule, "--url", srv.URL, "--token", srv.AdminToken, "--format", "json")
				if code != 0 || !strings.Contains(out, c.want) {
					t.Errorf("oncall who: %d %s %s", code, out, errOut)
				}
			case c.want != "":
				out, errOut, code := run(t, "slo", "rules", "--config", dir)
				if code != 0 || !strings.Contains(out, c.want) {
					t.Errorf("slo rules: %d %s\n%s", code, errOut, out)
				}
			default:
				out, errOut, code := run(t, "services", "--url", srv.URL, "--token", srv.AdminToken)
				if code != 0 || !strings.Contains(out, "checkout") {
					t.Errorf("services: %d %s %s", code, out, errOut)
				}
			}
		})
	}
}

// TestImportsShareOneDirectory imports PagerDuty and then Backstage into
// one directory: Backstage's alice is PagerDuty's alice (same email), and
// its pagerduty.com/service-id annotation gives checkout PagerDuty's policy.
func TestImportsShareOneDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tandem.d")
	if out, errOut, code := run(t, "import", "pagerduty", "--api-export", "../testdata/pagerduty-api", "--out", dir); code != 0 {
		t.Fatalf("%s %s", out, errOut)
	}
	if out, errOut, code := run(t, "import", "backstage", "../testdata/backstage", "--out", dir); code != 0 {
		t.Fatalf("%s %s", out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, "backstage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "alice@example.com") || !strings.Contains(string(b), "escalation_policy: SRE Escalation") {
		t.Errorf("backstage.yaml redefines alice or lacks the policy:\n%s", b)
	}
	if out, errOut, code := run(t, "config", "validate", dir); code != 0 {
		t.Fatalf("config validate: %s %s", out, errOut)
	}
}

// TestAlertmanagerConfig: amtool accepts the printed receiver and route
// put into a minimal alertmanager.yml.
func TestAlertmanagerConfig(t *testing.T) {
	amtool := testenv.Binary(t, "TANDEM_TEST_AMTOOL", "amtool")
	t.Setenv("AM_TOKEN", "tdm_abcdefghij_secretsecretsecret")
	out, errOut, code := run(t, "alertmanager", "config", "--url", "https://tandem.example.com", "--token-env", "AM_TOKEN")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	if _, errOut, code := run(t, "alertmanager", "config", "--url", "https://tandem.example.com", "--token-env", "NOT_SET_ANYWHERE"); code == 0 || !strings.Contains(errOut, "NOT_SET_ANYWHERE") {
		t.Errorf("unset token variable: %d %s", code, errOut)
	}
	// Indent the snippet's two sections into a minimal config.
	var recv, route []string
	section := ""
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "#") || l == "":
		case l == "receivers:":
			section = "r"
		case l == "route:":
			section = "o"
		case section == "r":
			recv = append(recv, l)
		case section == "o" && !strings.HasPrefix(strings.TrimSpace(l), "routes:"):
			route = append(route, "  "+l)
		}
	}
	full := "route:\n  receiver: default\n  routes:\n" + strings.Join(route, "\n") + "\nreceivers:\n  - name: default\n" + strings.Join(recv, "\n") + "\n"
	p := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(p, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := exec.Command(amtool, "check-config", p).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "SUCCESS") {
		t.Fatalf("amtool check-config: %v\n%s\n%s", err, res, full)
	}
	for _, w := range []string{"send_resolved: true", "type: Bearer", "/api/v1/webhooks/alertmanager", "group_by: [service, alertname]"} {
		if !strings.Contains(out, w) {
			t.Errorf("snippet lacks %q:\n%s", w, out)
		}
	}
}

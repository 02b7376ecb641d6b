// Package e2e_test imports each source's fixtures with the CLI, validates
// the result, boots a real tandem on it and asks it who is on call (or
// writes the SLO rules).
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
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
		name string
		args []string
		// schedule is asked with oncall who at at, and want is on call
		// then (worked out by hand from the fixtures; the equivalence
		// tests in the importer compare every instant); without a
		// schedule, want is in the output of slo rules, or else a service
		// the server lists.
		schedule, at, want string
	}{
		// Weekly from Monday 2 February 09:00 New York (alice, bob,
		// carol): Tuesday 10 March is in week 5, carol's.
		{"pagerduty-terraform", []string{"import", "pagerduty", "--terraform", td + "pagerduty-terraform"}, "payments-primary", "2026-03-10T12:00:00-04:00", "carol"},
		// Europe day, daily from 2 March (niaj, alice), 09:00-18:00:
		// day 8, niaj's.
		{"pagerduty-api", []string{"import", "pagerduty", "--api-export", td + "pagerduty-api"}, "sre-primary", "2026-03-10T12:00:00+01:00", "niaj"},
		// Business hours, weekly from Monday 2 March 09:00 Berlin (bob,
		// alice, carol): week 1, alice's.
		{"opsgenie", []string{"import", "opsgenie", "--export", td + "opsgenie"}, "ops_schedule", "2026-03-10T10:00:00+01:00", "alice"},
		// Weekly rotation from 2 March 09:00 Berlin starting at the second
		// of alex, bob, cara: week 1, cara's.
		{"grafana-oncall", []string{"import", "grafana-oncall", "--export", td + "grafana-oncall"}, "demo-schedule-calendar", "2026-03-10T12:00:00+01:00", "cara"},
		{"backstage", []string{"import", "backstage", td + "backstage"}, "", "", "checkout"},
		{"sloth", []string{"import", "sloth", td + "sloth/slos.yaml"}, "", "", `slo:sli_error:ratio_rate1h{slo=\"myservice-requests-availability\"} > (14.4 * 0.001`},
		// 28 days: 2 % of the budget in 1 h is a factor of 13.44.
		{"sloth-28d", []string{"import", "sloth", td + "sloth/slos.yaml", "--slo-period", "28d"}, "", "", `slo:sli_error:ratio_rate1h{slo=\"myservice-requests-availability\"} > (13.44 * 0.001`},
		// 7 days with the AlertWindows Sloth runs with: 8 % in 1 h, 13.44.
		{"sloth-7d", []string{"import", "sloth", td + "sloth/slos.yaml", "--slo-period", "7d", "--slo-period-windows", td + "sloth/windows"}, "", "", `slo:sli_error:ratio_rate1h{slo=\"myservice-requests-availability\"} > (13.44 * 0.001`},
		{"pyrra", []string{"import", "pyrra", td + "pyrra/slos.yaml"}, "", "", `slo:sli_error:ratio_rate1h{slo=\"prometheus-http-errors\"} > (14 * 0.01`},
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
			if code != 0 || !strings.Contains(out, "imported ") || !strings.Contains(out, " warnings") {
				t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
			}
			if !strings.Contains(errOut, "warning: ") {
				t.Errorf("no warnings printed:\n%s", errOut)
			}
			// A second run refuses to overwrite without --force, and changes
			// nothing.
			before := readAll(t, dir)
			if _, errOut, code := run(t, append(c.args, "--out", dir)...); code == 0 || !strings.Contains(errOut, "--force") {
				t.Errorf("second run without --force: %d %s", code, errOut)
			}
			if after := readAll(t, dir); after != before {
				t.Errorf("a refused import changed the directory")
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
				out, errOut, code := run(t, "oncall", "who", "--schedule", c.schedule, "--at", c.at, "--url", srv.URL, "--token", srv.AdminToken, "--format", "json")
				var r struct{ OnCall []string }
				if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.OnCall) != 1 || r.OnCall[0] != c.want {
					t.Errorf("oncall who at %s: %d %s %s, want %s", c.at, code, out, errOut, c.want)
				}
			case strings.HasPrefix(c.name, "sloth") || c.name == "pyrra":
				out, errOut, code := run(t, "slo", "rules", "--config", dir)
				if code != 0 || !strings.Contains(out, c.want) {
					t.Errorf("slo rules: %d %s\n%s", code, errOut, out)
				}
			default:
				out, errOut, code := run(t, "services", "--url", srv.URL, "--token", srv.AdminToken)
				if code != 0 || !strings.Contains(out, c.want) {
					t.Errorf("services: %d %s %s", code, out, errOut)
				}
			}
		})
	}
}

// TestSlothPeriodWithoutWindows: a period Sloth has no windows for is
// refused, as Sloth refuses it, and nothing is written.
func TestSlothPeriodWithoutWindows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tandem.d")
	_, errOut, code := run(t, "import", "sloth", "../testdata/sloth/slos.yaml", "--slo-period", "14d", "--out", dir)
	if code == 0 || !strings.Contains(errOut, "no Sloth alert windows for an SLO period of 2w") {
		t.Errorf("14d: %d %s", code, errOut)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused import created the directory")
	}
}

// readAll returns every file of dir, for comparing before and after.
func readAll(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		fmt.Fprintf(&b, "%s\n%s\n", p, data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
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

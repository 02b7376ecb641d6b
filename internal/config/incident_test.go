package config

import (
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/incident"
)

const heartbeatCatalog = `
teams: [{name: payments}]
services: [{name: checkout, team: payments}]
`

// A heartbeat's grace is what the config says, 0 turning it off, or by
// default a tenth of the interval and at least a minute.
func TestHeartbeatGrace(t *testing.T) {
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(heartbeatCatalog), "incidents.yaml": []byte(`heartbeats:
  - {name: every-5m, service: checkout, interval: 5m}
  - {name: nightly, service: checkout, interval: 25h}
  - {name: strict, service: checkout, interval: 1h, grace: 0}
  - {name: lenient, service: checkout, interval: 1h, grace: 90s}
`)}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{
		"every-5m": time.Minute,       // a tenth is 30s: the minute floor
		"nightly":  150 * time.Minute, // a tenth of 25h
		"strict":   incident.NoGrace,  // none
		"lenient":  90 * time.Second,
	}
	hs := cfg.Incident.Heartbeats
	if len(hs) != len(want) {
		t.Fatalf("heartbeats = %+v", hs)
	}
	for _, h := range hs {
		if h.Grace != want[h.Name] {
			t.Errorf("%s: grace %s, want %s", h.Name, h.Grace, want[h.Name])
		}
	}
}

func TestHeartbeatGraceErrors(t *testing.T) {
	_, err := Parse(map[string][]byte{"catalog.yaml": []byte(heartbeatCatalog), "incidents.yaml": []byte(`heartbeats:
  - {name: a, service: checkout, interval: 5m, grace: soon}
  - {name: b, service: checkout, interval: 5m, grace: -1m}
  - {name: c, service: checkout, interval: 1h, grace: 8d}
  - {name: d, service: checkout, interval: 1h, grace: 7d}
`)}, now)
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{
		`incidents.yaml:2:55: heartbeats[0].grace: expected a duration from 0 (no grace) to 7d, got "soon"`,
		`incidents.yaml:3:55: heartbeats[1].grace: expected a duration from 0 (no grace) to 7d, got "-1m"`,
		`incidents.yaml:4:55: heartbeats[2].grace: expected a duration from 0 (no grace) to 7d, got "8d"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "heartbeats[3]") {
		t.Errorf("7d, the bound, is refused:\n%s", got)
	}
}

// The fallback escalation policy must be one the config defines; a typo is
// reported with the closest names.
func TestFallbackEscalationPolicy(t *testing.T) {
	oncallDoc := `people: [{name: alice}]
escalation_policies:
  - name: SRE Catch-all
    rules: [{escalation_delay_in_minutes: 10, targets: [{type: user_reference, id: alice}]}]
`
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(heartbeatCatalog), "oncall.yaml": []byte(oncallDoc),
		"incidents.yaml": []byte("incidents: {fallback_escalation_policy: SRE Catch-all}\n")}, now)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Incident.FallbackPolicy != "SRE Catch-all" {
		t.Fatalf("fallback policy %q", cfg.Incident.FallbackPolicy)
	}
	_, err = Parse(map[string][]byte{"catalog.yaml": []byte(heartbeatCatalog), "oncall.yaml": []byte(oncallDoc),
		"incidents.yaml": []byte("incidents: {fallback_escalation_policy: SRE Catchall}\n")}, now)
	want := `incidents.yaml:1:41: incidents.fallback_escalation_policy: escalation policy "SRE Catchall" does not exist; did you mean "SRE Catch-all"?`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// The incidents and notifications sections reach the validated config:
// auto-resolve off, the label mapping, secrets from the environment, rate
// limits and maintenance windows; bad values are reported where they are.
func TestIncidentSections(t *testing.T) {
	t.Setenv("TEST_SLACK_URL", "https://hooks.slack.com/services/T0/B0/secret")
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(heartbeatCatalog), "incidents.yaml": []byte(`incidents:
  auto_resolve: false
  base_url: https://tandem.example.com/
  alert_mapping: {service_label: app, severity_label: level, severities: {PAGE: sev1}, default_severity: sev4, default_service: checkout}
notifications:
  slack: {webhook_url_env: TEST_SLACK_URL}
  rate_limits:
    slack: {every: 2s, burst: 3}
maintenance_windows:
  - {service: checkout, start: 2027-01-10T22:00:00Z, end: 2027-01-10T23:30:00Z, reason: upgrade}
`)}, now)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Incident
	if c.AutoResolve || c.BaseURL != "https://tandem.example.com" || c.ServiceLabel != "app" || c.SeverityLabel != "level" ||
		c.Severities["page"] != "sev1" || c.DefaultSeverity != "sev4" || c.DefaultService != "checkout" {
		t.Errorf("incidents section: %+v", c)
	}
	if c.SlackWebhookURL != "https://hooks.slack.com/services/T0/B0/secret" {
		t.Errorf("slack webhook from the environment: %q", c.SlackWebhookURL)
	}
	if rl := c.RateLimits["slack"]; rl.Every != 2*time.Second || rl.Burst != 3 {
		t.Errorf("rate limit: %+v", rl)
	}
	if len(c.Maintenance) != 1 || c.Maintenance[0].Service != "checkout" || c.Maintenance[0].Reason != "upgrade" ||
		!c.Maintenance[0].End.Equal(time.Date(2027, 1, 10, 23, 30, 0, 0, time.UTC)) {
		t.Errorf("maintenance windows: %+v", c.Maintenance)
	}

	_, err = Parse(map[string][]byte{"catalog.yaml": []byte(heartbeatCatalog), "incidents.yaml": []byte(`incidents:
  alert_mapping: {severities: {page: urgent}}
notifications:
  slack: {webhook_url_env: TEST_UNSET_VARIABLE}
maintenance_windows:
  - {service: chekout, start: 2027-01-10T22:00:00Z, end: 2027-01-10T21:00:00Z, reason: x}
`)}, now)
	for _, want := range []string{
		`incidents.alert_mapping.severities.page: expected sev1, sev2, sev3, sev4 or none (no incident), got "urgent"`,
		`TEST_UNSET_VARIABLE`,
		`"chekout"`,
		`maintenance_windows[0].end`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

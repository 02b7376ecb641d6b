package config

import (
	"strings"
	"testing"
	"time"
)

const chatopsCatalog = `teams: [{name: payments}]
people:
  - {name: alice, email: alice@example.com, phone: "+15551230001"}
  - {name: bob, phone: "555-1234"}
services: [{name: checkout, team: payments}]
`

func TestChatopsConfig(t *testing.T) {
	t.Setenv("T_SLACK_TOKEN", "xoxb-1")
	t.Setenv("T_SLACK_SECRET", "s1")
	t.Setenv("T_TWILIO", "tok")
	t.Setenv("T_MM", "https://mm.example/hooks/x")
	t.Setenv("T_MM_SECRET", "0123456789abcdef0")
	t.Setenv("T_SP", "key")
	cfg, err := Parse(map[string][]byte{"catalog.yaml": []byte(strings.Replace(chatopsCatalog, `  - {name: bob, phone: "555-1234"}`+"\n", "", 1)),
		"n.yaml": []byte(`incidents: {base_url: https://tandem.example}
notification_rules:
  - person: alice
    contact_methods: [{type: mattermost, address: alice.m}]
    rules:
      - {start_delay_in_minutes: 0, contact_method: sms}
      - {start_delay_in_minutes: 5, contact_method: voice}
      - {start_delay_in_minutes: 5, contact_method: mattermost}
notifications:
  slack:
    bot_token_env: T_SLACK_TOKEN
    signing_secret_env: T_SLACK_SECRET
    channel: C0123ABCD
    incident_channels: {min_severity: sev2, name: "incident-{id}", archive_after: 2h, invite: [U012AB3CD]}
  twilio:
    account_sid: AC123
    auth_token_env: T_TWILIO
    from: "+15005550006"
    sms_limits: [{count: 2, per: 10m}]
    daily_cap: 50
  mattermost: {webhook_url_env: T_MM, action_secret_env: T_MM_SECRET}
  status_page:
    statuspage: {page_id: p1, api_key_env: T_SP}
`)}, now)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Chatops
	if !c.SlackApp() || c.SlackSigningSecret != "s1" || c.SlackChannel != "C0123ABCD" || c.Channels.MinSeverity != "sev2" ||
		c.Channels.Name != "incident-{id}" || c.Channels.ArchiveAfter != 2*time.Hour || c.Channels.NotePrefix != "!note" {
		t.Fatalf("slack = %+v", c)
	}
	if c.Twilio.AuthToken != "tok" || c.Twilio.DailyCap != 50 || len(c.Twilio.SMSLimits) != 1 || c.Twilio.SMSLimits[0] != (PhoneLimit{2, 10 * time.Minute}) ||
		len(c.Twilio.VoiceLimits) != len(DefaultVoiceLimits) {
		t.Fatalf("twilio = %+v", c.Twilio)
	}
	if c.MattermostActionSecret == "" || c.Statuspage.APIKey != "key" {
		t.Fatalf("chatops = %+v", c)
	}
}

func TestChatopsConfigErrors(t *testing.T) {
	t.Setenv("T_SLACK_TOKEN", "xoxb-1")
	t.Setenv("T_MM_SECRET", "short")
	_, err := Parse(map[string][]byte{"catalog.yaml": []byte(chatopsCatalog), "n.yaml": []byte(`notification_rules:
  - person: alice
    contact_methods:
      - {name: pager, type: sms, address: "0170 1234"}
      - {type: teams, address: alice}
    rules: [{start_delay_in_minutes: 0, contact_method: pager}]
notifications:
  slack:
    bot_token_env: T_SLACK_TOKEN
    channel: "#oncall"
    incident_channels: {min_severity: critical, name: "inc-{service}"}
  twilio: {account_sid: nope, from: "5005550006", daily_cap: 0}
  mattermost: {webhook_url_env: T_MM_UNSET, action_secret_env: T_MM_SECRET}
  status_page:
    webhook: {secret_env: T_NOPE}
    statuspage: {}
`)}, now)
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error()
	for _, want := range []string{
		`people.bob.phone: expected an E.164 number`,
		`notification_rules.alice.contact_methods[0].address: expected a phone number in E.164 form`,
		`notification_rules.alice.contact_methods[1].address: expected the person's Teams sign-in`,
		`notifications.slack.signing_secret_env: the Slack app needs signing_secret_env too`,
		`notifications.slack.bot_token_env: the Slack app needs incidents.base_url`,
		`notifications.slack.channel: expected a Slack channel ID`,
		`notifications.slack.incident_channels.min_severity: expected sev1, sev2, sev3 or sev4, got "critical"`,
		`notifications.slack.incident_channels.name: the template must hold {id}`,
		`notifications.twilio.account_sid: expected an account SID`,
		`notifications.twilio.auth_token_env: required`,
		`notifications.twilio.from: expected the Twilio number in E.164 form`,
		`notifications.twilio.daily_cap: expected at least 1`,
		`notifications.mattermost.webhook_url_env: environment variable T_MM_UNSET is not set`,
		`notifications.mattermost.action_secret_env: the secret in T_MM_SECRET is shorter than 16 bytes`,
		`notifications.status_page.webhook.url_env: required`,
		`notifications.status_page.statuspage.page_id: required`,
		`notification_rules.alice.contact_methods[1].type: teams pages need notifications.teams`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "xoxb-1") {
		t.Errorf("a secret reached the error text:\n%s", got)
	}
}

func TestChannelName(t *testing.T) {
	for _, c := range []struct{ tmpl, svc, want string }{
		{"inc-{id}-{service}", "checkout", "inc-12-checkout"},
		{"INC {id} {service}!", "Payments.API", "inc-12-payments-api"},
		{"{severity}-{id}", "x", "sev1-12"},
		{"!!!", "x", ""},
	} {
		if got := ChannelName(c.tmpl, 12, c.svc, "sev1"); got != c.want {
			t.Errorf("ChannelName(%q) = %q, want %q", c.tmpl, got, c.want)
		}
	}
	if got := ChannelName(strings.Repeat("a", 100)+"-{id}", 1, "x", "sev1"); len(got) > 80 {
		t.Errorf("long name %q", got)
	}
}

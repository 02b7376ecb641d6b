package importer

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// AlertmanagerOptions describe the receiver and route that send alerts to
// tandem.
type AlertmanagerOptions struct {
	// URL is tandem's base URL (https://tandem.example.com).
	URL string
	// Token is the API token (write scope) Alertmanager sends; exactly one
	// of Token and CredentialsFile is set.
	Token string
	// CredentialsFile is a file on the Alertmanager host holding the token.
	CredentialsFile string
	// ServiceLabel is the label tandem reads the service from
	// (incidents.alert_mapping.service_label, default "service").
	ServiceLabel string
}

// AlertmanagerReceiver is an Alertmanager receiver with one webhook.
type AlertmanagerReceiver struct {
	Name           string            `yaml:"name"`
	WebhookConfigs []amWebhookConfig `yaml:"webhook_configs"`
}

type amWebhookConfig struct {
	URL          string       `yaml:"url"`
	SendResolved bool         `yaml:"send_resolved"`
	HTTPConfig   amHTTPConfig `yaml:"http_config"`
}

type amHTTPConfig struct {
	Authorization amAuthorization `yaml:"authorization"`
}

type amAuthorization struct {
	Type            string `yaml:"type"`
	Credentials     string `yaml:"credentials,omitempty"`
	CredentialsFile string `yaml:"credentials_file,omitempty"`
}

// AlertmanagerRoute is a route to the tandem receiver.
type AlertmanagerRoute struct {
	Receiver       string   `yaml:"receiver"`
	GroupBy        []string `yaml:"group_by,flow"`
	GroupWait      string   `yaml:"group_wait"`
	GroupInterval  string   `yaml:"group_interval"`
	RepeatInterval string   `yaml:"repeat_interval"`
	Continue       bool     `yaml:"continue"`
}

// AlertmanagerSnippet is the part of alertmanager.yml that sends alerts to
// tandem: a receiver for receivers: and a route for route.routes:.
type AlertmanagerSnippet struct {
	Receivers []AlertmanagerReceiver `yaml:"receivers"`
	Route     struct {
		Routes []AlertmanagerRoute `yaml:"routes"`
	} `yaml:"route"`
}

// Alertmanager returns the receiver and route that send every alert to
// tandem's Alertmanager webhook. Alerts are grouped by the service label
// and alertname: tandem opens one incident per Alertmanager group and
// reads the group's service from its labels, so a group must not mix
// services. send_resolved lets tandem resolve the incident; the route
// continues so the alerts also reach the receivers already configured.
func Alertmanager(o AlertmanagerOptions) (AlertmanagerSnippet, error) {
	var s AlertmanagerSnippet
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("--url: expected tandem's http(s) base URL, got %q", o.URL)
	}
	if (o.Token == "") == (o.CredentialsFile == "") {
		return s, fmt.Errorf("give the token (--token-env) or a credentials file (--credentials-file), one of them")
	}
	if strings.ContainsAny(o.Token, " \t\r\n") {
		return s, fmt.Errorf("the token holds white space; expected a tandem API token")
	}
	label := o.ServiceLabel
	if label == "" {
		label = "service"
	}
	hook := strings.TrimRight(u.String(), "/") + "/api/v1/webhooks/alertmanager"
	s.Receivers = []AlertmanagerReceiver{{Name: "tandem", WebhookConfigs: []amWebhookConfig{{
		URL: hook, SendResolved: true,
		HTTPConfig: amHTTPConfig{Authorization: amAuthorization{Type: "Bearer", Credentials: o.Token, CredentialsFile: o.CredentialsFile}},
	}}}}
	s.Route.Routes = []AlertmanagerRoute{{Receiver: "tandem", GroupBy: []string{label, "alertname"},
		GroupWait: "30s", GroupInterval: "5m", RepeatInterval: "4h", Continue: true}}
	return s, nil
}

// YAML renders the snippet with a comment saying where each part goes.
func (s AlertmanagerSnippet) YAML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Add to alertmanager.yml: the receiver to receivers:, the route first under route.routes:\n")
	buf.WriteString("# (continue: true keeps sending the alerts to your other receivers). Check with amtool check-config.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

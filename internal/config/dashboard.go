package config

import (
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// DashboardSection holds the top-level key of a tandem document for the
// dashboard's links out:
//
//	dashboard: {prometheus_url, grafana_url, grafana_datasource, runbooks: {services, alerts}}
type DashboardSection struct {
	// Dashboard configures where the dashboard links to: an SLO's query
	// in Prometheus and Grafana Explore, and runbooks. At most one
	// document may set it.
	Dashboard *DashboardYAML `yaml:"dashboard"`
}

// DashboardYAML is the dashboard section as written.
type DashboardYAML struct {
	// PrometheusURL is the base URL of the Prometheus the SLOs read, an
	// http or https URL; an SLO then links to its query in the Prometheus
	// UI.
	PrometheusURL string `yaml:"prometheus_url"`
	// GrafanaURL is the base URL of Grafana, an http or https URL; an SLO
	// then links to its query in Grafana Explore.
	GrafanaURL string `yaml:"grafana_url"`
	// GrafanaDatasource is the UID of the Grafana data source Explore
	// runs the query on (default prometheus).
	GrafanaDatasource string `yaml:"grafana_datasource"`
	// Runbooks link services and alerts to their runbooks.
	Runbooks RunbooksYAML `yaml:"runbooks"`
}

// RunbooksYAML maps services and alerts to runbook URLs.
type RunbooksYAML struct {
	// Services maps a service's name to its runbook, an http or https URL.
	Services map[string]string `yaml:"services"`
	// Alerts maps an SLO's name to the runbook of its burn-rate alerts, an
	// http or https URL.
	Alerts map[string]string `yaml:"alerts"`
}

// DashboardConfig is the validated dashboard section.
type DashboardConfig struct {
	// PrometheusURL and GrafanaURL are the base URLs, without a trailing
	// slash ("" when not set).
	PrometheusURL string
	// GrafanaURL is Grafana's base URL, without a trailing slash.
	GrafanaURL string
	// GrafanaDatasource is the data source UID for Explore.
	GrafanaDatasource string
	// ServiceRunbooks maps service names to runbook URLs.
	ServiceRunbooks map[string]string
	// AlertRunbooks maps SLO names to the runbooks of their alerts.
	AlertRunbooks map[string]string

	docs []entry[DashboardYAML]
}

// collectDashboard files the section of one document.
func (l *loader) collectDashboard(file string, root *yaml.Node, d *document) {
	if d.Dashboard != nil {
		l.cfg.Dashboard.docs = append(l.cfg.Dashboard.docs, entry[DashboardYAML]{*d.Dashboard, file, at(root, "dashboard")})
	}
}

// webURL reports whether s is an absolute http or https URL.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// buildDashboard validates the section (after the SLOs, whose names the
// alert runbooks use) and fills l.cfg.Dashboard.
func (l *loader) buildDashboard() {
	dc := &l.cfg.Dashboard
	dc.GrafanaDatasource = "prometheus"
	dc.ServiceRunbooks, dc.AlertRunbooks = map[string]string{}, map[string]string{}
	for i, e := range dc.docs {
		if i > 0 {
			l.errAt(e.file, e.node, "", "dashboard", "dashboard is defined twice; first at %s:%d", dc.docs[0].file, dc.docs[0].node.Line)
			continue
		}
		y := e.v
		for _, f := range []struct{ key, v string }{{"prometheus_url", y.PrometheusURL}, {"grafana_url", y.GrafanaURL}} {
			if f.v != "" && !webURL(f.v) {
				l.errAt(e.file, e.node, f.key, "dashboard."+f.key, "want an http or https URL, got %q", f.v)
			}
		}
		dc.PrometheusURL = strings.TrimRight(y.PrometheusURL, "/")
		dc.GrafanaURL = strings.TrimRight(y.GrafanaURL, "/")
		if y.GrafanaDatasource != "" {
			dc.GrafanaDatasource = y.GrafanaDatasource
		}
		rb := at(e.node, "runbooks")
		for _, svc := range sortedKeys(y.Runbooks.Services) {
			u := y.Runbooks.Services[svc]
			n := at(at(rb, "services"), svc)
			if l.knownService(e.file, n, "", "dashboard.runbooks.services."+svc, svc) && !webURL(u) {
				l.errAt(e.file, n, "", "dashboard.runbooks.services."+svc, "want an http or https URL, got %q", u)
			}
			dc.ServiceRunbooks[svc] = u
		}
		for _, name := range sortedKeys(y.Runbooks.Alerts) {
			u := y.Runbooks.Alerts[name]
			n := at(at(rb, "alerts"), name)
			path := "dashboard.runbooks.alerts." + name
			if _, ok := l.cfg.SLO.Get(name); !ok {
				l.errAt(e.file, n, "", path, "no SLO named %q", name)
			} else if !webURL(u) {
				l.errAt(e.file, n, "", path, "want an http or https URL, got %q", u)
			}
			dc.AlertRunbooks[name] = u
		}
	}
	dc.docs = nil
}

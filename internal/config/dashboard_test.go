package config

import (
	"strings"
	"testing"
	"time"
)

func TestDashboardSection(t *testing.T) {
	base := "teams: [{name: pay}]\nservices: [{name: checkout, team: pay}]\n"
	cfg, err := Parse(map[string][]byte{"a.yaml": []byte(base + `dashboard:
  prometheus_url: https://prom.example.com/
  grafana_url: https://grafana.example.com
  runbooks:
    services: {checkout: https://runbooks.example.com/checkout}
`)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Dashboard
	if d.PrometheusURL != "https://prom.example.com" || d.GrafanaURL != "https://grafana.example.com" || d.GrafanaDatasource != "prometheus" ||
		d.ServiceRunbooks["checkout"] != "https://runbooks.example.com/checkout" {
		t.Errorf("dashboard config: %+v", d)
	}
	for _, c := range []struct{ yaml, want string }{
		{"dashboard: {prometheus_url: 'javascript:alert(1)'}", "dashboard.prometheus_url"},
		{"dashboard: {grafana_url: grafana}", "dashboard.grafana_url"},
		{"dashboard: {runbooks: {services: {chekout: https://x.example.com}}}", `did you mean "checkout"`},
		{"dashboard: {runbooks: {services: {checkout: 'ftp://x'}}}", "dashboard.runbooks.services.checkout"},
		{"dashboard: {runbooks: {alerts: {nope: https://x.example.com}}}", `no SLO named "nope"`},
	} {
		_, err := Parse(map[string][]byte{"a.yaml": []byte(base + c.yaml + "\n")}, time.Now())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.yaml, err, c.want)
		}
	}
	_, err = Parse(map[string][]byte{"a.yaml": []byte(base + "dashboard: {}\n"), "b.yaml": []byte("dashboard: {}\n")}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Errorf("two dashboard sections: %v", err)
	}
}

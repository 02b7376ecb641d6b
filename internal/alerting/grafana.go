package alerting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"

	"github.com/tandemhq/tandem/internal/slo"
)

// DashboardOptions shape the Grafana dashboard.
type DashboardOptions struct {
	// Service keeps only that service's SLOs ("" all).
	Service string
	// TandemURL is the default of the dashboard's tandem_url variable, the
	// base URL deployment annotations are read from.
	TandemURL string
}

type obj = map[string]any

// Dashboard returns Grafana dashboard JSON (schema 39) for the SLOs: per
// SLO a row with a gauge "Error Budget Remaining" (green, yellow under
// 50 %, red under 10 %), the SLI over time against its objective and the
// burn rates by window, all from the tandem_slo_* gauges tandem exports on
// /metrics (so native and Prometheus-backed SLOs look the same). Deployment
// annotations come from tandem's change API through the Infinity data
// source plugin (yesoreyeram-infinity-datasource).
func Dashboard(defs []*slo.Definition, o DashboardOptions) ([]byte, error) {
	if o.TandemURL == "" {
		o.TandemURL = "http://127.0.0.1:8080"
	}
	sorted := append([]*slo.Definition(nil), defs...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Service != sorted[j].Service {
			return sorted[i].Service < sorted[j].Service
		}
		return sorted[i].Name < sorted[j].Name
	})
	ds := obj{"type": "prometheus", "uid": "${datasource}"}
	var panels []any
	services := map[string]bool{}
	id, y := 1, 0
	next := func() int { id++; return id - 1 }
	for _, def := range sorted {
		if o.Service != "" && def.Service != o.Service {
			continue
		}
		services[def.Service] = true
		sel := fmt.Sprintf(`{slo=%q}`, def.Name)
		title := def.Name
		if def.DisplayName != "" {
			title = def.DisplayName
		}
		panels = append(panels, obj{
			"type": "row", "id": next(), "title": fmt.Sprintf("%s — %s (%s, objective %.4g%%)", def.Service, title, def.Window.String(), def.Objective*100),
			"collapsed": false, "gridPos": obj{"h": 1, "w": 24, "x": 0, "y": y}, "panels": []any{},
		})
		y++
		panels = append(panels,
			obj{
				"type": "gauge", "id": next(), "title": "Error Budget Remaining", "datasource": ds,
				"gridPos": obj{"h": 8, "w": 6, "x": 0, "y": y},
				"targets": []any{obj{"refId": "A", "datasource": ds, "expr": "tandem_slo_error_budget_remaining_ratio" + sel, "instant": true}},
				"fieldConfig": obj{"defaults": obj{
					"unit": "percentunit", "min": 0, "max": 1, "decimals": 1,
					"thresholds": obj{"mode": "absolute", "steps": []any{
						obj{"color": "red", "value": nil},
						obj{"color": "yellow", "value": slo.CriticalBelow},
						obj{"color": "green", "value": slo.WarningBelow},
					}},
				}, "overrides": []any{}},
				"options": obj{"showThresholdMarkers": true, "showThresholdLabels": false, "reduceOptions": obj{"calcs": []any{"lastNotNull"}, "fields": "", "values": false}},
			},
			obj{
				"type": "timeseries", "id": next(), "title": "SLI over time", "datasource": ds,
				"gridPos": obj{"h": 8, "w": 9, "x": 6, "y": y},
				"targets": []any{
					obj{"refId": "A", "datasource": ds, "expr": "tandem_slo_sli_ratio" + sel, "legendFormat": "SLI"},
					obj{"refId": "B", "datasource": ds, "expr": "tandem_slo_objective_ratio" + sel, "legendFormat": "objective"},
				},
				"fieldConfig": obj{"defaults": obj{"unit": "percentunit", "decimals": 3}, "overrides": []any{}},
				"options":     obj{"legend": obj{"displayMode": "list", "placement": "bottom"}, "tooltip": obj{"mode": "multi"}},
			},
			obj{
				"type": "timeseries", "id": next(), "title": "Burn rates", "datasource": ds,
				"gridPos":     obj{"h": 8, "w": 9, "x": 15, "y": y},
				"targets":     []any{obj{"refId": "A", "datasource": ds, "expr": "tandem_slo_burn_rate" + sel, "legendFormat": "{{window}}"}},
				"fieldConfig": obj{"defaults": obj{"unit": "none", "decimals": 2}, "overrides": []any{}},
				"options":     obj{"legend": obj{"displayMode": "list", "placement": "bottom"}, "tooltip": obj{"mode": "multi"}},
			},
		)
		y += 8
	}
	if panels == nil {
		panels = []any{}
	}
	var svcList []string
	for s := range services {
		svcList = append(svcList, s)
	}
	sort.Strings(svcList)
	var annotations []any
	annotations = append(annotations, obj{
		"builtIn": 1, "datasource": obj{"type": "grafana", "uid": "-- Grafana --"}, "enable": true, "hide": true,
		"iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
	})
	for _, s := range svcList {
		q := url.Values{"service": {s}, "kind": {"deploy"}}
		annotations = append(annotations, obj{
			"name": "Deployments: " + s, "enable": true, "iconColor": "purple",
			"datasource": obj{"type": "yesoreyeram-infinity-datasource", "uid": "${tandem}"},
			"target": obj{
				"type": "json", "source": "url", "format": "table", "parser": "backend",
				"url":           "${tandem_url}/api/v1/changes?" + q.Encode(),
				"url_options":   obj{"method": "GET"},
				"root_selector": "items",
				"columns": []any{
					obj{"selector": "finished_at", "text": "time", "type": "timestamp"},
					obj{"selector": "version", "text": "title", "type": "string"},
					obj{"selector": "status", "text": "text", "type": "string"},
				},
			},
		})
	}
	title := "tandem SLOs"
	uid := "tandem-slos"
	if o.Service != "" {
		title += " — " + o.Service
		uid += "-" + o.Service
		if len(uid) > 40 {
			uid = uid[:40]
		}
	}
	d := obj{
		"title": title, "uid": uid, "schemaVersion": 39, "version": 1, "editable": true,
		"tags":    []any{"tandem", "slo"},
		"time":    obj{"from": "now-7d", "to": "now"},
		"refresh": "1m",
		"templating": obj{"list": []any{
			obj{"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": obj{}, "hide": 0},
			obj{"name": "tandem", "label": "tandem API (Infinity)", "type": "datasource", "query": "yesoreyeram-infinity-datasource", "current": obj{}, "hide": 0},
			obj{"name": "tandem_url", "label": "tandem URL", "type": "textbox", "query": o.TandemURL,
				"current": obj{"text": o.TandemURL, "value": o.TandemURL}, "hide": 0},
		}},
		"annotations": obj{"list": annotations},
		"panels":      panels,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	return buf.Bytes(), nil
}

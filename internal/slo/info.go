package slo

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// infoCollector exports tandem_slo_info: 1 for every SLO of the config,
// labelled slo, service and the SLO's own labels (OpenSLO metadata.labels,
// Definition.Labels), so that any tandem_slo_* series can be grouped by
// them: tandem_slo_error_budget_remaining_ratio * on (slo) group_left (team)
// tandem_slo_info. It is an unchecked collector: its label names follow
// the config, which a reload may change; an SLO without one of them has it
// empty, which Prometheus reads as absent.
type infoCollector struct{ defs func() []*Definition }

const infoHelp = "1 for every SLO, labelled with its service and its own labels (OpenSLO metadata.labels)."

// Describe sends nothing: the collector is unchecked.
func (infoCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends one tandem_slo_info series per SLO.
func (c infoCollector) Collect(ch chan<- prometheus.Metric) {
	defs := c.defs()
	set := map[string]bool{}
	for _, d := range defs {
		for k := range d.Labels {
			if k != "slo" && k != "service" {
				set[k] = true
			}
		}
	}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	desc := prometheus.NewDesc("tandem_slo_info", infoHelp, append([]string{"slo", "service"}, names...), nil)
	for _, d := range defs {
		values := []string{d.Name, d.Service}
		for _, k := range names {
			values = append(values, d.Labels[k])
		}
		if m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, 1, values...); err == nil {
			ch <- m
		}
	}
}

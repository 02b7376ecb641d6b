package slo

import "github.com/prometheus/client_golang/prometheus"

// The SLO metrics, labelled slo and service (and window, severity or
// status).
var (
	descSLI       = prometheus.NewDesc("tandem_slo_sli_ratio", "SLI over the SLO window: good over total events (or time slices).", []string{"slo", "service"}, nil)
	descRemaining = prometheus.NewDesc("tandem_slo_error_budget_remaining_ratio", "Share of the error budget left over the SLO window (negative when overspent).", []string{"slo", "service"}, nil)
	descObjective = prometheus.NewDesc("tandem_slo_objective_ratio", "The SLO's target ratio.", []string{"slo", "service"}, nil)
	descBurn      = prometheus.NewDesc("tandem_slo_burn_rate", "Error budget burn rate over a window (1 spends the budget exactly over the SLO window).", []string{"slo", "service", "window"}, nil)
	descFreeze    = prometheus.NewDesc("tandem_slo_release_freeze", "1 while the SLO puts its service in release freeze.", []string{"slo", "service"}, nil)
	descFiring    = prometheus.NewDesc("tandem_slo_alert_firing", "1 while a burn-rate alert fires.", []string{"slo", "service", "severity"}, nil)
	descStatus    = prometheus.NewDesc("tandem_slo_status", "1 for the SLO's current status (healthy, warning, critical, exhausted, no_data), 0 for the others. A no_data SLO has no SLI, budget or burn-rate series.", []string{"slo", "service", "status"}, nil)
)

// statuses are the values of tandem_slo_status's status label.
var statuses = []string{StatusHealthy, StatusWarning, StatusCritical, StatusExhausted, StatusNoData}

// collector reports the SLO metrics of the latest evaluation cycle when
// scraped, so a scrape sees one whole cycle and a cycle does no metric
// bookkeeping. A number the status does not have (nil) has no series: an
// SLO without data exports its status and objective, never an SLI, budget
// or burn rate; a burn-rate window without events exports nothing for that
// window; an unreadable source exports no alert or freeze state either,
// since they are unknown.
type collector struct{ s *Service }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSLI, descRemaining, descObjective, descBurn, descFreeze, descFiring, descStatus} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.RLock()
	sts := c.s.exported
	c.s.mu.RUnlock()
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	b := map[bool]float64{true: 1, false: 0}
	for _, st := range sts {
		g(descObjective, st.Objective, st.Name, st.Service)
		for _, v := range statuses {
			g(descStatus, b[st.Status == v], st.Name, st.Service, v)
		}
		if st.Error != "" {
			continue // no gauge is better than a made-up one
		}
		g(descFreeze, b[st.Freeze.Active], st.Name, st.Service)
		g(descFiring, b[st.Alerts.Page.Firing], st.Name, st.Service, "page")
		g(descFiring, b[st.Alerts.Ticket.Firing], st.Name, st.Service, "ticket")
		if st.Status == StatusNoData {
			continue
		}
		if st.SLI != nil {
			g(descSLI, *st.SLI, st.Name, st.Service)
		}
		if st.ErrorBudget.Remaining != nil {
			g(descRemaining, *st.ErrorBudget.Remaining, st.Name, st.Service)
		}
		for w, v := range st.BurnRates {
			if v != nil {
				g(descBurn, *v, st.Name, st.Service, w)
			}
		}
	}
}

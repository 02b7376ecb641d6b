package dora

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/catalog"
)

// CollectorWindow is the period the /metrics gauges cover: the last 30
// days, ending at the scrape.
const CollectorWindow = 30 * 24 * time.Hour

// CollectorTTL is how long a computed set of gauges is served before the
// next scrape computes it again.
const CollectorTTL = time.Minute

// Collector exposes each service's DORA metrics over the last 30 days as
// Prometheus gauges labelled service and team:
//
//	tandem_dora_deployment_frequency_per_day
//	tandem_dora_lead_time_median_seconds, tandem_dora_lead_time_p90_seconds
//	tandem_dora_change_failure_rate
//	tandem_dora_recovery_time_median_seconds
//	tandem_dora_rework_rate
//	tandem_dora_deploys (finished production deploys in the window)
//	tandem_dora_tier{metric} (4 elite, 3 high, 2 medium, 1 low)
//
// A metric without data (no commits, no deploys) is left out rather than
// shown as zero. It computes on scrape, at most once per CollectorTTL.
type Collector struct {
	loader  func() *Loader
	catalog func() *catalog.Catalog
	now     func() time.Time
	log     *slog.Logger

	mu      sync.Mutex
	at      time.Time
	reports []Report

	freq, leadMed, leadP90, cfr, recMed, rework, deploys, tier *prometheus.Desc
}

// NewCollector returns a collector reading through loader (called on each
// computation, so config reloads apply) with the services of catalog.
func NewCollector(loader func() *Loader, cat func() *catalog.Catalog, now func() time.Time, log *slog.Logger) *Collector {
	l := []string{"service", "team"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("tandem_dora_"+name, help, labels, nil)
	}
	return &Collector{loader: loader, catalog: cat, now: now, log: log,
		freq:    d("deployment_frequency_per_day", "Successful production deploys per day over the last 30 days.", l...),
		leadMed: d("lead_time_median_seconds", "Median lead time for changes (commit to production) over the last 30 days.", l...),
		leadP90: d("lead_time_p90_seconds", "90th percentile lead time for changes over the last 30 days.", l...),
		cfr:     d("change_failure_rate", "Share of production deploys that failed over the last 30 days (0..1).", l...),
		recMed:  d("recovery_time_median_seconds", "Median failed deployment recovery time over the last 30 days.", l...),
		rework:  d("rework_rate", "Share of production deploys that were unplanned fixes over the last 30 days (0..1).", l...),
		deploys: d("deploys", "Finished production deploys over the last 30 days.", l...),
		tier:    d("tier", "DORA 2024 performance tier per metric: 4 elite, 3 high, 2 medium, 1 low.", "service", "team", "metric"),
	}
}

// Describe sends the descriptors.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.freq, c.leadMed, c.leadP90, c.cfr, c.recMed, c.rework, c.deploys, c.tier} {
		ch <- d
	}
}

// Collect computes (or reuses, within CollectorTTL) the per-service reports
// and sends the gauges. A failure to read the store is logged and the
// scrape carries no DORA gauges.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	reps, err := c.current()
	if err != nil {
		c.log.Warn("dora metrics: cannot compute", "err", err)
		return
	}
	for _, r := range reps {
		lv := []string{r.Service, r.Team}
		g := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
		}
		gp := func(d *prometheus.Desc, v *float64) {
			if v != nil {
				g(d, *v)
			}
		}
		g(c.freq, r.DeploymentFrequencyPerDay)
		g(c.deploys, float64(r.Deploys))
		gp(c.leadMed, r.LeadTimeMedianSeconds)
		gp(c.leadP90, r.LeadTimeP90Seconds)
		gp(c.cfr, r.ChangeFailureRate)
		gp(c.recMed, r.RecoveryTimeMedianSeconds)
		gp(c.rework, r.ReworkRate)
		for metric, t := range map[string]Tier{"deployment_frequency": r.DeploymentFrequencyTier, "lead_time": r.LeadTimeTier,
			"change_failure_rate": r.ChangeFailureRateTier, "recovery_time": r.RecoveryTimeTier} {
			if v := tierValue(t); v > 0 {
				ch <- prometheus.MustNewConstMetric(c.tier, prometheus.GaugeValue, v, r.Service, r.Team, metric)
			}
		}
	}
}

func tierValue(t Tier) float64 {
	switch t {
	case Elite:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	}
	return 0
}

func (c *Collector) current() ([]Report, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.reports != nil && now.Sub(c.at) < CollectorTTL && !now.Before(c.at) {
		return c.reports, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	l := c.loader()
	q := Query{From: now.Add(-CollectorWindow), To: now}
	in, err := l.Load(ctx, c.catalog(), q)
	if err != nil {
		return nil, err
	}
	c.reports = Analyze(in, l.Options).ByService(q.From, q.To)
	c.at = now
	return c.reports, nil
}

package engine

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
)

// healthTimeout bounds the queries of one scrape.
const healthTimeout = 5 * time.Second

var (
	descJobs = prometheus.NewDesc("tandem_engine_jobs",
		"Jobs in the jobs table by state (queued, running, done, failed), read from the database at scrape time: every replica reports the same shared queue.",
		[]string{"state"}, nil)
	descDue = prometheus.NewDesc("tandem_engine_jobs_due",
		"Queued jobs whose run_at has come: work waiting for a worker.",
		nil, nil)
	descOldestDue = prometheus.NewDesc("tandem_engine_oldest_due_job_age_seconds",
		"How long the oldest due job has waited since its run_at (0 when no job is due). Pages are late by at least this much.",
		nil, nil)
)

// HealthCollector reports the shared job queue from the database at
// scrape time, so that an alert on the queue works on any replica and does
// not depend on the loop that works it. When the database cannot be read
// the series are left out (no data, not 0) and the error is logged.
type HealthCollector struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
}

// Describe sends the descriptors.
func (c HealthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descJobs
	ch <- descDue
	ch <- descOldestDue
}

// Collect reads the jobs table.
func (c HealthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	now := c.Clock.Now()
	counts, err := c.stateCounts(ctx)
	if err != nil {
		c.Log.Warn("metrics: jobs table unreadable", "err", err)
		return
	}
	for _, st := range []string{StateQueued, StateRunning, StateDone, StateFailed} {
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(counts[st]), st)
	}
	var due int64
	var oldest sql.NullInt64
	err = c.DB.QueryRow(ctx, `SELECT COUNT(*), MIN(run_at) FROM jobs WHERE state = ? AND run_at <= ?`,
		StateQueued, db.Millis(now)).Scan(&due, &oldest)
	if err != nil {
		c.Log.Warn("metrics: jobs table unreadable", "err", err)
		return
	}
	age := 0.0
	if oldest.Valid {
		age = max(0, now.Sub(db.Time(oldest.Int64)).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(descDue, prometheus.GaugeValue, float64(due))
	ch <- prometheus.MustNewConstMetric(descOldestDue, prometheus.GaugeValue, age)
}

func (c HealthCollector) stateCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := c.DB.Query(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

package slo

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandemhq/tandem/internal/clock"
	"github.com/tandemhq/tandem/internal/db"
)

// evaluatorLoop names the SLO evaluator's row in loop_runs.
const evaluatorLoop = "slo-evaluator"

// MarkEvaluated records that an evaluation of every SLO finished at at.
func (s *Store) MarkEvaluated(ctx context.Context, at time.Time) error {
	_, err := s.db.Exec(ctx, `INSERT INTO loop_runs (loop, finished_at) VALUES (?, ?)
		ON CONFLICT (loop) DO UPDATE SET finished_at = excluded.finished_at`, evaluatorLoop, db.Millis(at))
	return err
}

// LastEvaluated returns when an evaluation of every SLO last finished, and
// false when none ever has.
func (s *Store) LastEvaluated(ctx context.Context) (time.Time, bool, error) {
	var ms int64
	err := s.db.QueryRow(ctx, `SELECT finished_at FROM loop_runs WHERE loop = ?`, evaluatorLoop).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return db.Time(ms), true, nil
}

var (
	descEvalLast = prometheus.NewDesc("tandem_slo_evaluator_last_success_timestamp_seconds",
		"Unix time at which the SLO evaluator last finished evaluating every SLO (on whichever replica ran it). Absent until it first has.",
		nil, nil)
	descEvalLag = prometheus.NewDesc("tandem_slo_evaluator_lag_seconds",
		"Seconds since the SLO evaluator last finished evaluating every SLO: budgets, burn rates and SLO alerts are this old. Absent until it first has.",
		nil, nil)
	descEvalInterval = prometheus.NewDesc("tandem_slo_evaluator_interval_seconds",
		"The SLO evaluator's configured interval (slo_settings.evaluate_every).",
		nil, nil)
)

// evaluatorCollector reports the evaluator's last run from the database
// at scrape time. An unreadable database leaves the timestamp and lag out
// (no data, not 0).
type evaluatorCollector struct {
	store    *Store
	clock    clock.Clock
	interval time.Duration
	log      *slog.Logger
}

func (c evaluatorCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descEvalLast
	ch <- descEvalLag
	ch <- descEvalInterval
}

func (c evaluatorCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descEvalInterval, prometheus.GaugeValue, c.interval.Seconds())
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	at, ok, err := c.store.LastEvaluated(ctx)
	if err != nil {
		c.log.Warn("metrics: SLO evaluator's last run unreadable", "err", err)
		return
	}
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(descEvalLast, prometheus.GaugeValue, float64(at.UnixMilli())/1000)
	ch <- prometheus.MustNewConstMetric(descEvalLag, prometheus.GaugeValue, max(0, c.clock.Now().Sub(at).Seconds()))
}

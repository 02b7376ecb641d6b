package slo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/tandemhq/tandem/internal/db"
)

// LatencyBoundsMs are the upper bounds of the native latency histogram's
// buckets; the last bucket counts everything slower.
var LatencyBoundsMs = [10]float64{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// NativeBucket is one minute of native SLI data.
type NativeBucket struct {
	Start time.Time // a minute boundary
	Good  int64
	Total int64
	// Latency counts observations per LatencyBoundsMs bucket (index 10:
	// slower than the last bound).
	Latency [11]int64
}

// Retention of native data: minutes for MinuteRetention (every burn window
// up to 3 d at minute precision), hours for HourRetention (every window
// tandem accepts up to a calendar year and its history).
const (
	MinuteRetention = 3*24*time.Hour + 2*time.Hour
	HourRetention   = 400 * 24 * time.Hour
)

const (
	resMinute = 60
	resHour   = 3600
)

// Store keeps native SLI data: per-minute buckets, hourly rollups, the
// batches already applied and the alerts raised.
type Store struct{ db *db.DB }

// NewStore returns a store on d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// Ingest applies one batch of minute buckets to SLO slo, at most once per
// (slo, source, batchID): a batch seen before changes nothing and returns
// applied false. Minutes and their hours are updated in one transaction.
// sliceWindow and sliceTarget (Timeslices SLOs; zero otherwise) make the
// touched hours' time-slice counts be recomputed from their minutes.
func (s *Store) Ingest(ctx context.Context, slo, source, batchID string, buckets []NativeBucket, sliceWindow time.Duration, sliceTarget float64, now time.Time) (applied bool, err error) {
	var events int64
	for _, b := range buckets {
		events += b.Total
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if batchID != "" {
			res, err := tx.Exec(ctx, `INSERT INTO slo_ingest_batches (slo, source, batch_id, events, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				slo, source, batchID, events, db.Millis(now))
			if err != nil {
				return fmt.Errorf("record batch: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
		}
		applied = true
		return writeBuckets(ctx, tx, slo, buckets, sliceWindow, sliceTarget)
	})
	return applied, err
}

const upsertBucket = `INSERT INTO slo_buckets (slo, res, start_ms, good, total, l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (slo, res, start_ms) DO UPDATE SET good = slo_buckets.good + excluded.good, total = slo_buckets.total + excluded.total,
l0 = slo_buckets.l0 + excluded.l0, l1 = slo_buckets.l1 + excluded.l1, l2 = slo_buckets.l2 + excluded.l2, l3 = slo_buckets.l3 + excluded.l3,
l4 = slo_buckets.l4 + excluded.l4, l5 = slo_buckets.l5 + excluded.l5, l6 = slo_buckets.l6 + excluded.l6, l7 = slo_buckets.l7 + excluded.l7,
l8 = slo_buckets.l8 + excluded.l8, l9 = slo_buckets.l9 + excluded.l9, l10 = slo_buckets.l10 + excluded.l10`

func writeBuckets(ctx context.Context, tx *db.Tx, slo string, buckets []NativeBucket, sliceWindow time.Duration, sliceTarget float64) error {
	minutes := map[int64]*NativeBucket{}
	hours := map[int64]*NativeBucket{}
	add := func(m map[int64]*NativeBucket, key int64, b NativeBucket) {
		cur, ok := m[key]
		if !ok {
			cur = &NativeBucket{Start: db.Time(key)}
			m[key] = cur
		}
		cur.Good += b.Good
		cur.Total += b.Total
		for i := range cur.Latency {
			cur.Latency[i] += b.Latency[i]
		}
	}
	for _, b := range buckets {
		add(minutes, db.Millis(b.Start.UTC().Truncate(time.Minute)), b)
		add(hours, db.Millis(b.Start.UTC().Truncate(time.Hour)), b)
	}
	stmt, err := tx.Prepare(ctx, tx.Dialect().Rebind(upsertBucket))
	if err != nil {
		return fmt.Errorf("prepare bucket upsert: %w", err)
	}
	defer stmt.Close()
	for _, group := range []struct {
		res int
		m   map[int64]*NativeBucket
	}{{resMinute, minutes}, {resHour, hours}} {
		keys := make([]int64, 0, len(group.m))
		for k := range group.m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] }) // a fixed lock order
		for _, k := range keys {
			b := group.m[k]
			args := []any{slo, group.res, k, b.Good, b.Total}
			for _, l := range b.Latency {
				args = append(args, l)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("upsert bucket: %w", err)
			}
		}
	}
	if sliceWindow > 0 {
		for h := range hours {
			if err := recountSlices(ctx, tx, slo, h, sliceWindow, sliceTarget); err != nil {
				return err
			}
		}
	}
	return nil
}

// recountSlices recomputes an hour's time-slice counts from its minutes.
func recountSlices(ctx context.Context, tx *db.Tx, slo string, hourMs int64, slice time.Duration, target float64) error {
	rows, err := tx.Query(ctx, `SELECT start_ms, good, total FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ?`,
		slo, resMinute, hourMs, hourMs+int64(time.Hour/time.Millisecond))
	if err != nil {
		return fmt.Errorf("read minutes: %w", err)
	}
	var mins []Bucket
	for rows.Next() {
		var ms, g, t int64
		if err := rows.Scan(&ms, &g, &t); err != nil {
			rows.Close()
			return err
		}
		mins = append(mins, Bucket{Start: db.Time(ms), Counts: Counts{float64(g), float64(t)}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	c := sumCounts(SliceBuckets(mins, slice, target))
	_, err = tx.Exec(ctx, `UPDATE slo_buckets SET good_slices = ?, slices = ? WHERE slo = ? AND res = ? AND start_ms = ?`,
		int64(c.Good), int64(c.Total), slo, resHour, hourMs)
	return err
}

func sumCounts(bs []Bucket) Counts {
	var c Counts
	for _, b := range bs {
		c = c.Add(b.Counts)
	}
	return c
}

// SliceBuckets turns minute buckets of events into buckets of time slices
// of length slice (which divides an hour): a slice with events is good when
// its good ratio reaches target. Each slice is reported at its start.
func SliceBuckets(minutes []Bucket, slice time.Duration, target float64) []Bucket {
	if slice < time.Minute {
		slice = time.Minute
	}
	agg := map[time.Time]Counts{}
	for _, m := range minutes {
		k := m.Start.UTC().Truncate(slice)
		agg[k] = agg[k].Add(m.Counts)
	}
	out := make([]Bucket, 0, len(agg))
	for k, c := range agg {
		if c.Total <= 0 {
			continue
		}
		b := Bucket{Start: k, Counts: Counts{Total: 1}}
		if c.Good/c.Total >= target {
			b.Good = 1
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Load reads the native data of SLO def for a window starting at from,
// evaluated at now, into a Series: hourly rollups up to the minute span,
// minutes after, and the window's p95 latency from the histograms.
func (s *Store) Load(ctx context.Context, def *Definition, from, now time.Time) (Series, error) {
	hs, ms, end := SeriesLayout(from, now)
	hours, hl, err := s.read(ctx, def.Name, resHour, hs, ms, def.Method == Timeslices)
	if err != nil {
		return Series{}, err
	}
	minutes, ml, err := s.read(ctx, def.Name, resMinute, ms, end, false)
	if err != nil {
		return Series{}, err
	}
	if def.Method == Timeslices {
		minutes = SliceBuckets(minutes, def.TimeSliceWindow, def.TimeSliceTarget)
	}
	ser := NewSeries(from, now, hours, minutes)
	var lat [11]int64
	for i := range lat {
		lat[i] = hl[i] + ml[i]
	}
	ser.LatencyP95Ms = Quantile(lat, 0.95)
	return ser, nil
}

// Hours returns the hourly rollups of SLO def in [from, to), for history.
func (s *Store) Hours(ctx context.Context, def *Definition, from, to time.Time) ([]Bucket, error) {
	b, _, err := s.read(ctx, def.Name, resHour, from.Truncate(time.Hour), to, def.Method == Timeslices)
	return b, err
}

func (s *Store) read(ctx context.Context, slo string, res int, from, to time.Time, slices bool) ([]Bucket, [11]int64, error) {
	var lat [11]int64
	rows, err := s.db.Query(ctx, `SELECT start_ms, good, total, good_slices, slices, l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10
FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms`, slo, res, db.Millis(from), db.Millis(to))
	if err != nil {
		return nil, lat, fmt.Errorf("read buckets: %w", err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var ms, g, t, gs, sl int64
		var l [11]int64
		if err := rows.Scan(&ms, &g, &t, &gs, &sl, &l[0], &l[1], &l[2], &l[3], &l[4], &l[5], &l[6], &l[7], &l[8], &l[9], &l[10]); err != nil {
			return nil, lat, fmt.Errorf("read buckets: %w", err)
		}
		c := Counts{float64(g), float64(t)}
		if slices {
			c = Counts{float64(gs), float64(sl)}
		}
		out = append(out, Bucket{Start: db.Time(ms), Counts: c})
		for i := range lat {
			lat[i] += l[i]
		}
	}
	return out, lat, rows.Err()
}

// Sum is an SLO's native data summed over a span: its counts and its
// latency histogram (indexed like NativeBucket.Latency).
type Sum struct {
	Good, Total int64
	Latency     [11]int64
}

// Quantile is the q-quantile (0 < q <= 1) of the latency observations in
// the sum, in milliseconds (see the package function Quantile for the
// estimate). ok is false when the sum holds no latency observation: no
// data, never a number.
func (s Sum) Quantile(q float64) (float64, bool) {
	var n int64
	for _, c := range s.Latency {
		n += c
	}
	if n == 0 {
		return 0, false
	}
	return Quantile(s.Latency, q), true
}

// Sum adds up the native buckets of SLO slo in [from, to): the minute
// buckets, or the hourly rollups when no minute is left there (older than
// MinuteRetention). ok is false when neither holds any bucket.
func (s *Store) Sum(ctx context.Context, slo string, from, to time.Time) (sum Sum, ok bool, err error) {
	for _, res := range []int{resMinute, resHour} {
		var n int64
		l := &sum.Latency
		err := s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(good),0), COALESCE(SUM(total),0),
COALESCE(SUM(l0),0), COALESCE(SUM(l1),0), COALESCE(SUM(l2),0), COALESCE(SUM(l3),0), COALESCE(SUM(l4),0), COALESCE(SUM(l5),0),
COALESCE(SUM(l6),0), COALESCE(SUM(l7),0), COALESCE(SUM(l8),0), COALESCE(SUM(l9),0), COALESCE(SUM(l10),0)
FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ?`, slo, res, db.Millis(from), db.Millis(to)).
			Scan(&n, &sum.Good, &sum.Total, &l[0], &l[1], &l[2], &l[3], &l[4], &l[5], &l[6], &l[7], &l[8], &l[9], &l[10])
		if err != nil {
			return Sum{}, false, fmt.Errorf("sum buckets of %s: %w", slo, err)
		}
		if n > 0 {
			return sum, true, nil
		}
	}
	return Sum{}, false, nil
}

// Quantile estimates the q-quantile of a latency histogram by linear
// interpolation inside the bucket that holds it, as Prometheus's
// histogram_quantile does. It returns -1 for an empty histogram; a
// quantile in the overflow bucket reports the last bound.
func Quantile(h [11]int64, q float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return -1
	}
	rank := q * float64(n)
	var cum float64
	lower := 0.0
	for i, c := range h {
		if i == len(LatencyBoundsMs) {
			return LatencyBoundsMs[len(LatencyBoundsMs)-1]
		}
		upper := LatencyBoundsMs[i]
		if cum+float64(c) >= rank && c > 0 {
			return lower + (upper-lower)*(rank-cum)/float64(c)
		}
		cum += float64(c)
		lower = upper
	}
	return LatencyBoundsMs[len(LatencyBoundsMs)-1]
}

// LatencyBucket returns the histogram index for a latency in milliseconds.
func LatencyBucket(ms float64) int {
	for i, b := range LatencyBoundsMs {
		if ms <= b {
			return i
		}
	}
	return len(LatencyBoundsMs)
}

// Prune deletes minutes older than MinuteRetention and hours older than
// HourRetention before now, and batch records older than a week (a client
// retrying after that is applied again). It returns the rows deleted.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	for _, q := range []struct {
		sql string
		arg []any
	}{
		{`DELETE FROM slo_buckets WHERE res = ? AND start_ms < ?`, []any{resMinute, db.Millis(now.Add(-MinuteRetention))}},
		{`DELETE FROM slo_buckets WHERE res = ? AND start_ms < ?`, []any{resHour, db.Millis(now.Add(-HourRetention))}},
		{`DELETE FROM slo_ingest_batches WHERE received_at < ?`, []any{db.Millis(now.Add(-7 * 24 * time.Hour))}},
	} {
		res, err := s.db.Exec(ctx, q.sql, q.arg...)
		if err != nil {
			return n, fmt.Errorf("prune: %w", err)
		}
		c, _ := res.RowsAffected()
		n += c
	}
	return n, nil
}

// WriteRollups writes hour rollups directly (without minutes), replacing
// what is there: for generated history older than the minute retention.
func (s *Store) WriteRollups(ctx context.Context, slo string, hours []NativeBucket) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		stmt, err := tx.Prepare(ctx, tx.Dialect().Rebind(upsertBucket))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, b := range hours {
			args := []any{slo, resHour, db.Millis(b.Start.UTC().Truncate(time.Hour)), b.Good, b.Total}
			for _, l := range b.Latency {
				args = append(args, l)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("write rollup: %w", err)
			}
		}
		return nil
	})
}

// AlertState is an alert raised to the incident capability and not yet
// resolved.
type AlertState struct {
	SLO, Severity string
	FiringSince   time.Time
	Reason        string
}

// Raised lists the alerts currently raised.
func (s *Store) Raised(ctx context.Context) (map[string]AlertState, error) {
	rows, err := s.db.Query(ctx, `SELECT slo, severity, firing_since, reason FROM slo_alerts`)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	defer rows.Close()
	out := map[string]AlertState{}
	for rows.Next() {
		var a AlertState
		var ms int64
		if err := rows.Scan(&a.SLO, &a.Severity, &ms, &a.Reason); err != nil {
			return nil, err
		}
		a.FiringSince = db.Time(ms)
		out[a.SLO+"/"+a.Severity] = a
	}
	return out, rows.Err()
}

// SetRaised records (firing) or forgets (resolved) an alert.
func (s *Store) SetRaised(ctx context.Context, a AlertState, firing bool) error {
	if firing {
		_, err := s.db.Exec(ctx, `INSERT INTO slo_alerts (slo, severity, firing_since, reason) VALUES (?, ?, ?, ?)
ON CONFLICT (slo, severity) DO UPDATE SET reason = excluded.reason`, a.SLO, a.Severity, db.Millis(a.FiringSince), a.Reason)
		return err
	}
	_, err := s.db.Exec(ctx, `DELETE FROM slo_alerts WHERE slo = ? AND severity = ?`, a.SLO, a.Severity)
	return err
}

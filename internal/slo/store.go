package slo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/db"
)

// NativeBucket is one minute of native SLI data.
type NativeBucket struct {
	Start time.Time // a minute boundary
	Good  int64
	Total int64
	// Latency holds the minute's latency observations (nil: none).
	Latency *Latency
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
// (slo, source, batchID): the same batch again changes nothing and returns
// applied false; a batch id seen before with different content is a
// conflict *tandem.Error naming the batch id, and changes nothing either.
// Minutes and their hours are updated in one transaction; an hour's rollup
// is only ever added to. sliceWindow and sliceTarget (Timeslices SLOs; zero
// otherwise) update the touched hours' time-slice counts too (see
// sliceDeltas).
func (s *Store) Ingest(ctx context.Context, slo, source, batchID string, buckets []NativeBucket, sliceWindow time.Duration, sliceTarget float64, now time.Time) (applied bool, err error) {
	var events int64
	for _, b := range buckets {
		events += b.Total
	}
	hash := BatchHash(buckets)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if batchID != "" {
			res, err := tx.Exec(ctx, `INSERT INTO slo_ingest_batches (slo, source, batch_id, events, received_at, content_hash) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				slo, source, batchID, events, db.Millis(now), hash)
			if err != nil {
				return fmt.Errorf("record batch: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var prev string
				if err := tx.QueryRow(ctx, `SELECT content_hash FROM slo_ingest_batches WHERE slo = ? AND source = ? AND batch_id = ?`, slo, source, batchID).Scan(&prev); err != nil {
					return fmt.Errorf("read batch: %w", err)
				}
				// A batch recorded before content hashes existed ("")
				// cannot be compared: it counts as the same batch.
				if prev != "" && prev != hash {
					e := tandem.Errorf(tandem.EConflict, "batch %q of source %q was applied before with different content; send new events under a new batch_id", batchID, source)
					e.Field = "batch_id"
					return e
				}
				return nil
			}
		}
		applied = true
		return writeBuckets(ctx, tx, slo, buckets, sliceWindow, sliceTarget, now)
	})
	return applied && err == nil, err
}

// BatchHash is the hex SHA-256 of what a batch adds: each minute's start,
// good and total counts and latency sketch, in time order. Two batches
// that add the same numbers have the same hash, whatever the order or
// form of their events.
func BatchHash(buckets []NativeBucket) string {
	sorted := append([]NativeBucket(nil), buckets...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	h := sha256.New()
	var buf [8]byte
	put := func(v int64) {
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	for _, b := range sorted {
		put(db.Millis(b.Start))
		put(b.Good)
		put(b.Total)
		enc := b.Latency.Encode()
		put(int64(len(enc)))
		h.Write(enc)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// upsertCounts adds a bucket's counts and returns its latency sketch as it
// was; on PostgreSQL the upsert locks the row, so the read-merge-write of
// the sketch that follows cannot lose a concurrent batch's observations
// (SQLite has one writer at a time).
const upsertCounts = `INSERT INTO slo_buckets (slo, res, start_ms, good, total, version) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (slo, res, start_ms) DO UPDATE SET good = slo_buckets.good + excluded.good, total = slo_buckets.total + excluded.total,
version = excluded.version
RETURNING latency`

// nextVersion takes SLO slo's next data version for the transaction: the
// upsert locks the SLO's version row until the transaction ends, so the
// versions of one SLO commit in order (SQLite has one writer at a time).
func nextVersion(ctx context.Context, tx *db.Tx, slo string) (int64, error) {
	var v int64
	err := tx.QueryRow(ctx, `INSERT INTO slo_native_versions (slo, version) VALUES (?, 1)
ON CONFLICT (slo) DO UPDATE SET version = slo_native_versions.version + 1 RETURNING version`, slo).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next data version of %s: %w", slo, err)
	}
	return v, nil
}

const setLatency = `UPDATE slo_buckets SET latency = ? WHERE slo = ? AND res = ? AND start_ms = ?`

// addBuckets adds buckets at resolution res, stamped with version: counts
// in SQL, latency sketches merged with the stored ones. Keys are visited in
// order, a fixed lock order between concurrent batches.
func addBuckets(ctx context.Context, tx *db.Tx, slo string, res int, m map[int64]*NativeBucket, version int64) error {
	up, err := tx.Prepare(ctx, tx.Dialect().Rebind(upsertCounts))
	if err != nil {
		return fmt.Errorf("prepare bucket upsert: %w", err)
	}
	defer up.Close()
	var set *sql.Stmt
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b := m[k]
		var old []byte
		if err := up.QueryRowContext(ctx, slo, res, k, b.Good, b.Total, version).Scan(&old); err != nil {
			return fmt.Errorf("upsert bucket: %w", err)
		}
		if b.Latency.Count() == 0 {
			continue
		}
		merged := b.Latency
		if len(old) > 0 {
			if merged, err = DecodeLatency(old); err != nil {
				return fmt.Errorf("bucket %s of %s: %w", db.Time(k).Format(time.RFC3339), slo, err)
			}
			merged.Merge(b.Latency)
		}
		if set == nil {
			if set, err = tx.Prepare(ctx, tx.Dialect().Rebind(setLatency)); err != nil {
				return fmt.Errorf("prepare latency update: %w", err)
			}
			defer set.Close()
		}
		if _, err := set.ExecContext(ctx, merged.Encode(), slo, res, k); err != nil {
			return fmt.Errorf("write latency: %w", err)
		}
	}
	return nil
}

func writeBuckets(ctx context.Context, tx *db.Tx, slo string, buckets []NativeBucket, sliceWindow time.Duration, sliceTarget float64, now time.Time) error {
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
		if b.Latency.Count() > 0 {
			if cur.Latency == nil {
				cur.Latency = NewLatency()
			}
			cur.Latency.Merge(b.Latency)
		}
	}
	for _, b := range buckets {
		add(minutes, db.Millis(b.Start.UTC().Truncate(time.Minute)), b)
		add(hours, db.Millis(b.Start.UTC().Truncate(time.Hour)), b)
	}
	version, err := nextVersion(ctx, tx, slo)
	if err != nil {
		return err
	}
	var deltas map[int64]Counts
	if sliceWindow > 0 {
		if deltas, err = sliceDeltas(ctx, tx, slo, minutes, sliceWindow, sliceTarget, now); err != nil {
			return err
		}
	}
	if err := addBuckets(ctx, tx, slo, resMinute, minutes, version); err != nil {
		return err
	}
	if err := addBuckets(ctx, tx, slo, resHour, hours, version); err != nil {
		return err
	}
	for h, d := range deltas {
		if d.Good == 0 && d.Total == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE slo_buckets SET good_slices = good_slices + ?, slices = slices + ? WHERE slo = ? AND res = ? AND start_ms = ?`,
			int64(d.Good), int64(d.Total), slo, resHour, h); err != nil {
			return fmt.Errorf("update time slices: %w", err)
		}
	}
	return nil
}

// sliceDeltas returns, per hour (start in ms), how a batch's minutes
// change the hour's time-slice counts, read before the minutes are
// written. A slice whose minutes are all within MinuteRetention before now
// is recomputed from its stored minutes plus the batch: the delta is its
// state after minus its state before. An older slice may have lost its
// minutes to pruning, so its state before is unknown: the batch's events
// there count as a slice of their own. Either way the hour's counts are
// only added to, never replaced.
func sliceDeltas(ctx context.Context, tx *db.Tx, slo string, minutes map[int64]*NativeBucket, slice time.Duration, target float64, now time.Time) (map[int64]Counts, error) {
	if slice < time.Minute {
		slice = time.Minute
	}
	state := func(c Counts) Counts { // one slice: 0/0 empty, 1/1 good, 0/1 bad
		if c.Total <= 0 {
			return Counts{}
		}
		if c.Good/c.Total >= target {
			return Counts{Good: 1, Total: 1}
		}
		return Counts{Total: 1}
	}
	known := now.Add(-MinuteRetention)
	batch := map[time.Time]Counts{} // per slice start
	hours := map[int64]bool{}       // hours with a known slice touched
	for _, b := range minutes {
		k := b.Start.UTC().Truncate(slice)
		batch[k] = batch[k].Add(Counts{Good: float64(b.Good), Total: float64(b.Total)})
		if !k.Before(known) {
			hours[db.Millis(k.Truncate(time.Hour))] = true
		}
	}
	stored := map[time.Time]Counts{}
	for h := range hours {
		rows, err := tx.Query(ctx, `SELECT start_ms, good, total FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ?`,
			slo, resMinute, h, h+int64(time.Hour/time.Millisecond))
		if err != nil {
			return nil, fmt.Errorf("read minutes: %w", err)
		}
		for rows.Next() {
			var ms, g, t int64
			if err := rows.Scan(&ms, &g, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read minutes: %w", err)
			}
			k := db.Time(ms).Truncate(slice)
			stored[k] = stored[k].Add(Counts{Good: float64(g), Total: float64(t)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read minutes: %w", err)
		}
	}
	out := map[int64]Counts{}
	for k, c := range batch {
		before, after := Counts{}, state(c)
		if !k.Before(known) {
			before, after = state(stored[k]), state(stored[k].Add(c))
		}
		h := db.Millis(k.Truncate(time.Hour))
		out[h] = out[h].Add(Counts{Good: after.Good - before.Good, Total: after.Total - before.Total})
	}
	return out, nil
}

// SliceBuckets turns minute buckets of events into buckets of time slices
// of length slice (which divides an hour): a slice with events is good when
// its good ratio reaches target. Only the slices complete by end count, as
// in the generated Prometheus rules, which read each slice at its end: each
// is reported at its last minute, with the events inside it as its Events,
// so that a window [end-w, end) holds the slices that end inside it, and a
// window shorter than a slice the last complete slice while it ended
// within the window.
func SliceBuckets(minutes []Bucket, slice time.Duration, target float64, end time.Time) []Bucket {
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
		if c.Total <= 0 || k.Add(slice).After(end) {
			continue
		}
		b := Bucket{Start: k.Add(slice - time.Minute), Counts: Counts{Total: 1, Events: c.EventCount()}}
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
// minutes after, and the p95 latency of all of them from their sketches.
func (s *Store) Load(ctx context.Context, def *Definition, from, now time.Time) (Series, error) {
	hs, ms, end := SeriesLayout(from, now)
	lat := NewLatency()
	hours, err := s.read(ctx, def.Name, resHour, hs, ms, def.Method == Timeslices, lat)
	if err != nil {
		return Series{}, err
	}
	minutes, err := s.read(ctx, def.Name, resMinute, ms, end, false, lat)
	if err != nil {
		return Series{}, err
	}
	if def.Method == Timeslices {
		minutes = SliceBuckets(minutes, def.TimeSliceWindow, def.TimeSliceTarget, end)
	}
	ser := NewSeries(from, now, hours, minutes)
	if p, ok := lat.Quantile(0.95); ok {
		ser.LatencyP95Ms = p
	}
	return ser, nil
}

// Hours returns the hourly rollups of SLO def in [from, to), for history.
func (s *Store) Hours(ctx context.Context, def *Definition, from, to time.Time) ([]Bucket, error) {
	return s.read(ctx, def.Name, resHour, from.Truncate(time.Hour), to, def.Method == Timeslices, nil)
}

// read returns the buckets of slo at resolution res in [from, to): event
// counts, or time-slice counts (with their events) when slices is set.
// With lat non-nil it merges the buckets' latency sketches into it.
func (s *Store) read(ctx context.Context, slo string, res int, from, to time.Time, slices bool, lat *Latency) ([]Bucket, error) {
	q := `SELECT start_ms, good, total, good_slices, slices FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms`
	if lat != nil {
		q = `SELECT start_ms, good, total, good_slices, slices, latency FROM slo_buckets WHERE slo = ? AND res = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms`
	}
	rows, err := s.db.Query(ctx, q, slo, res, db.Millis(from), db.Millis(to))
	if err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	defer rows.Close()
	var out []Bucket
	var sk []byte
	for rows.Next() {
		var ms, g, t, gs, sl int64
		dest := []any{&ms, &g, &t, &gs, &sl}
		if lat != nil {
			dest = append(dest, &sk)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read buckets: %w", err)
		}
		c := Counts{float64(g), float64(t), float64(t)}
		if slices {
			c = Counts{float64(gs), float64(sl), float64(t)}
		}
		out = append(out, Bucket{Start: db.Time(ms), Counts: c})
		if lat != nil {
			if err := lat.MergeEncoded(sk); err != nil {
				return nil, fmt.Errorf("bucket %s of %s: %w", db.Time(ms).Format(time.RFC3339), slo, err)
			}
		}
	}
	return out, rows.Err()
}

// Sum is an SLO's native data summed over a span: its event counts and its
// latency distribution (never nil; empty without latency data).
type Sum struct {
	Good, Total int64
	Latency     *Latency
}

// Quantile returns the span's q-quantile latency in milliseconds (within
// LatencyAccuracy of the exact value); ok is false without observations.
func (s Sum) Quantile(q float64) (ms float64, ok bool) { return s.Latency.Quantile(q) }

// Sum adds up the native buckets of SLO slo in [from, to): the minute
// buckets, or the hourly rollups when no minute is left there (older than
// MinuteRetention). ok is false when neither holds any bucket.
func (s *Store) Sum(ctx context.Context, slo string, from, to time.Time) (sum Sum, ok bool, err error) {
	for _, res := range []int{resMinute, resHour} {
		sum = Sum{Latency: NewLatency()}
		bs, err := s.read(ctx, slo, res, from, to, false, sum.Latency)
		if err != nil {
			return Sum{}, false, fmt.Errorf("sum buckets of %s: %w", slo, err)
		}
		for _, b := range bs {
			sum.Good += int64(b.Good)
			sum.Total += int64(b.Total)
		}
		if len(bs) > 0 {
			return sum, true, nil
		}
	}
	return Sum{Latency: NewLatency()}, false, nil
}

// Prune deletes minutes older than MinuteRetention and hours older than
// HourRetention before now, and batch records older than a week (a client
// retrying after that is applied again), OTLP request hashes older than a
// day and the state of OTLP series silent for a week (a series that comes
// back after that starts again, as a first point). It returns the rows
// deleted.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	for _, q := range []struct {
		sql string
		arg []any
	}{
		{`DELETE FROM slo_buckets WHERE res = ? AND start_ms < ?`, []any{resMinute, db.Millis(now.Add(-MinuteRetention))}},
		{`DELETE FROM slo_buckets WHERE res = ? AND start_ms < ?`, []any{resHour, db.Millis(now.Add(-HourRetention))}},
		{`DELETE FROM slo_ingest_batches WHERE received_at < ?`, []any{db.Millis(now.Add(-7 * 24 * time.Hour))}},
		{`DELETE FROM slo_otlp_requests WHERE received_ms < ?`, []any{db.Millis(now.Add(-24 * time.Hour))}},
		{`DELETE FROM slo_otlp_series WHERE seen_ms < ?`, []any{db.Millis(now.Add(-7 * 24 * time.Hour))}},
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

// WriteRollups adds hour rollups directly (without minutes) to what is
// there: for generated history older than the minute retention. It writes
// no time-slice counts.
func (s *Store) WriteRollups(ctx context.Context, slo string, hours []NativeBucket) error {
	m := map[int64]*NativeBucket{}
	for _, b := range hours {
		k := db.Millis(b.Start.UTC().Truncate(time.Hour))
		cur, ok := m[k]
		if !ok {
			cur = &NativeBucket{Start: db.Time(k)}
			m[k] = cur
		}
		cur.Good += b.Good
		cur.Total += b.Total
		if b.Latency.Count() > 0 {
			if cur.Latency == nil {
				cur.Latency = NewLatency()
			}
			cur.Latency.Merge(b.Latency)
		}
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		version, err := nextVersion(ctx, tx, slo)
		if err != nil {
			return err
		}
		if err := addBuckets(ctx, tx, slo, resHour, m, version); err != nil {
			return fmt.Errorf("write rollup: %w", err)
		}
		return nil
	})
}

// OTLPResult says what an OTLP export did: how many points it applied
// (counted, in part or in full), took as a baseline or found stale, and
// whether the whole request had been applied before (Duplicate).
type OTLPResult struct {
	Applied, Baseline, Stale int64
	Duplicate                bool
}

// seriesChunk is how many series one statement reads or writes (seven
// parameters each, within SQLite's and PostgreSQL's limits).
const seriesChunk = 500

// touchSeries locks the state rows of a chunk of series, creating empty
// ones (start_ns -1) where there are none, and returns their states: on
// PostgreSQL the upsert locks the rows until the transaction ends, so two
// replicas taking points of one series count each difference once (SQLite
// has one writer). Series are visited in sorted order, a fixed lock order.
func touchSeries(ctx context.Context, tx *db.Tx, keys [][2]string, now time.Time) (map[[2]string]*SeriesState, error) {
	out := make(map[[2]string]*SeriesState, len(keys))
	for len(keys) > 0 {
		chunk := keys[:min(seriesChunk, len(keys))]
		keys = keys[len(chunk):]
		var q strings.Builder
		q.WriteString(`INSERT INTO slo_otlp_series (slo, series, start_ns, time_ns, good, total, seen_ms) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, -1, -1, 0, 0, ?)")
			args = append(args, k[0], k[1], db.Millis(now))
		}
		q.WriteString(` ON CONFLICT (slo, series) DO UPDATE SET seen_ms = excluded.seen_ms RETURNING slo, series, start_ns, time_ns, good, total`)
		rows, err := tx.Query(ctx, q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("read series state: %w", err)
		}
		for rows.Next() {
			var k [2]string
			var startNs, timeNs, g, t int64
			if err := rows.Scan(&k[0], &k[1], &startNs, &timeNs, &g, &t); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read series state: %w", err)
			}
			if startNs >= 0 {
				out[k] = &SeriesState{Start: nanoTime(startNs), Time: nanoTime(timeNs), Good: g, Total: t}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read series state: %w", err)
		}
	}
	return out, nil
}

// setSeries writes the states of series, a chunk a statement.
func setSeries(ctx context.Context, tx *db.Tx, keys [][2]string, states map[[2]string]*SeriesState, now time.Time) error {
	for len(keys) > 0 {
		chunk := keys[:min(seriesChunk, len(keys))]
		keys = keys[len(chunk):]
		var q strings.Builder
		q.WriteString(`INSERT INTO slo_otlp_series (slo, series, start_ns, time_ns, good, total, seen_ms) VALUES `)
		args := make([]any, 0, 7*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			st := states[k]
			args = append(args, k[0], k[1], unixNano(st.Start), unixNano(st.Time), st.Good, st.Total, db.Millis(now))
		}
		q.WriteString(` ON CONFLICT (slo, series) DO UPDATE SET start_ns = excluded.start_ns, time_ns = excluded.time_ns, good = excluded.good, total = excluded.total`)
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("write series state: %w", err)
		}
	}
	return nil
}

// IngestOTLP applies the points of one OTLP export request to the native
// data of their SLOs (defs by name; a point of an SLO not there is an
// error), at most once per request hash: the same request again changes
// nothing and reports Duplicate. Cumulative points become deltas against
// the series state kept in the database (CumulativeDelta), in time order
// per series; delta points count as they are. Each point's events land in
// the minute of its Time. Everything happens in one transaction.
func (s *Store) IngestOTLP(ctx context.Context, hash string, points []SeriesPoint, defs map[string]*Definition, now time.Time) (OTLPResult, error) {
	var res OTLPResult
	for _, p := range points {
		if defs[p.SLO] == nil {
			return OTLPResult{}, fmt.Errorf("OTLP point for unknown SLO %q", p.SLO)
		}
	}
	sorted := append([]SeriesPoint(nil), points...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := &sorted[i], &sorted[j]
		if a.SLO != b.SLO {
			return a.SLO < b.SLO
		}
		if a.Series != b.Series {
			return a.Series < b.Series
		}
		return a.Time.Before(b.Time)
	})
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res = OTLPResult{}
		r, err := tx.Exec(ctx, `INSERT INTO slo_otlp_requests (hash, received_ms) VALUES (?, ?) ON CONFLICT DO NOTHING`, hash, db.Millis(now))
		if err != nil {
			return fmt.Errorf("record OTLP request: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicate = true
			return nil
		}
		var keys [][2]string
		for _, p := range sorted {
			if k := [2]string{p.SLO, p.Series}; p.Cumulative && (len(keys) == 0 || keys[len(keys)-1] != k) {
				keys = append(keys, k)
			}
		}
		states, err := touchSeries(ctx, tx, keys, now)
		if err != nil {
			return err
		}
		var changedKeys [][2]string
		buckets := map[string]map[int64]*NativeBucket{}
		add := func(p SeriesPoint, good, total int64) {
			m := buckets[p.SLO]
			if m == nil {
				m = map[int64]*NativeBucket{}
				buckets[p.SLO] = m
			}
			k := db.Millis(p.Time.UTC().Truncate(time.Minute))
			b := m[k]
			if b == nil {
				b = &NativeBucket{Start: db.Time(k)}
				m[k] = b
			}
			b.Good += good
			b.Total += total
		}
		for i := 0; i < len(sorted); {
			p := sorted[i]
			if !p.Cumulative {
				add(p, p.Good, p.Total)
				res.Applied++
				i++
				continue
			}
			// The cumulative points of one series, in time order.
			j := i
			for j < len(sorted) && sorted[j].SLO == p.SLO && sorted[j].Series == p.Series {
				j++
			}
			prev := states[[2]string{p.SLO, p.Series}]
			changed := false
			for _, q := range sorted[i:j] {
				if !q.Cumulative {
					add(q, q.Good, q.Total)
					res.Applied++
					continue
				}
				good, total, next, outcome := CumulativeDelta(prev, q)
				switch outcome {
				case SeriesStale:
					res.Stale++
					continue
				case SeriesBaseline:
					res.Baseline++
				default:
					res.Applied++
					if total > 0 {
						add(q, good, total)
					}
				}
				prev, changed = &next, true
			}
			if changed {
				k := [2]string{p.SLO, p.Series}
				states[k] = prev
				changedKeys = append(changedKeys, k)
			}
			i = j
		}
		if err := setSeries(ctx, tx, changedKeys, states, now); err != nil {
			return err
		}
		names := make([]string, 0, len(buckets))
		for n := range buckets {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			def := defs[n]
			var sliceWindow time.Duration
			if def.Method == Timeslices {
				sliceWindow = def.TimeSliceWindow
			}
			list := make([]NativeBucket, 0, len(buckets[n]))
			for _, b := range buckets[n] {
				list = append(list, *b)
			}
			if err := writeBuckets(ctx, tx, n, list, sliceWindow, def.TimeSliceTarget, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return OTLPResult{}, err
	}
	return res, nil
}

// unixNano is t in Unix nanoseconds, 0 for the zero time (OTLP's unset).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// nanoTime is unixNano's inverse.
func nanoTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
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

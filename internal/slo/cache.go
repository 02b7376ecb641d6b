package slo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tandemhq/tandem/internal/db"
)

// The evaluator keeps each native SLO's counts in memory and reads from the
// store only what changed since its last read, so that a cycle over many
// SLOs costs one query for their versions and one for their changed
// buckets rather than a read of every window.
//
// How it stays exact: every write of an SLO's native data takes the SLO's
// next version, locks it until the write commits (so the versions of one
// SLO commit in order) and stamps every bucket it changes with it. A
// reader that reads the version row first, then the buckets stamped after
// the version it holds, has every bucket up to the version it read; a
// bucket of a later write that it sees as well is read again next time,
// which is harmless because a bucket row holds its totals, not a change.
// Pruning deletes only minutes and hours older than any window keeps.
//
// An entry only moves forward: it holds every bucket from its bases on
// (a whole load reads them with no upper bound, and a bucket past its
// rows grows them), so an entry first read at a past instant stays exact
// when asked for the present. A status at an instant before the latest
// one an entry was brought to is read whole from the store instead,
// leaving the entry as it is.

// hourRow is one cached hour rollup.
type hourRow struct {
	good, total int64
	goodSlices  int32
	slices      int32
}

// minuteRow is one cached minute bucket.
type minuteRow struct{ good, total int64 }

// prefix is a running sum of good and total events. The sum of the rows
// [a, b) is p[b] - p[a]: integers, so the sums are exact and equal to
// adding the rows one by one.
type prefix struct{ good, total int64 }

// prefixes are the running sums over rows, kept up to date lazily: p[0]
// is a base (any value: only differences are read) and p[i+1] = p[i] +
// row i for i+1 < valid.
type prefixes struct {
	p     []prefix
	valid int
}

// reset starts over with no rows.
func (x *prefixes) reset() { x.p, x.valid = []prefix{{}}, 1 }

// drop forgets the first d rows, as the rows' slice does.
func (x *prefixes) drop(d int) {
	if d >= x.valid {
		x.p, x.valid = append(x.p[:0:0], prefix{}), 1
		return
	}
	x.p, x.valid = x.p[d:], x.valid-d
}

// grow makes room for n rows; the new sums are not valid yet.
func (x *prefixes) grow(n int) {
	if n+1 > len(x.p) {
		x.p = append(x.p, make([]prefix, n+1-len(x.p))...)
	}
}

// changed says row i changed: the sums after it are stale.
func (x *prefixes) changed(i int) { x.valid = min(x.valid, i+1) }

// update brings the sums up to date over rows read through row(i).
func (x *prefixes) update(n int, row func(i int) prefix) {
	for k := x.valid; k <= n; k++ {
		r := row(k - 1)
		x.p[k] = prefix{x.p[k-1].good + r.good, x.p[k-1].total + r.total}
	}
	x.valid = max(x.valid, n+1)
}

// sum is the rows [a, b) as Counts of events.
func (x *prefixes) sum(a, b int) Counts {
	g, t := float64(x.p[b].good-x.p[a].good), float64(x.p[b].total-x.p[a].total)
	return Counts{g, t, t}
}

// bucketRow is one bucket as the cache reads it.
type bucketRow struct {
	slo                            string
	res                            int
	start                          int64 // ms
	good, total, goodSlices, slice int64
	latency                        bool
}

// cacheAhead is how far past the evaluation the cache keeps buckets that
// arrive early (ingest accepts events up to five minutes ahead).
const cacheAhead = time.Hour

// cacheEntry is one SLO's cached data: hour rollups from hourBase (an hour
// number since the Unix epoch) and minutes from minuteBase (a minute
// number).
type cacheEntry struct {
	mu         sync.Mutex
	loaded     bool
	version    int64
	hourBase   int64
	hours      []hourRow
	minuteBase int64
	minutes    []minuteRow
	// hourSums and minuteSums are the running sums over hours and
	// minutes, so that a window's sum costs two reads, not a pass over
	// its rows.
	hourSums, minuteSums prefixes
	// need and needKey cache Windows for the definition and window span
	// they were computed for.
	need    []time.Duration
	needKey needKey
	// latency says whether a bucket read holds a latency sketch; p95 and
	// p95Key cache the window's p95 and what it was read for.
	latency bool
	p95     float64
	p95Key  [4]int64
	// synced is the cycle whose sync last brought the entry up to date.
	synced uint64
	// end is the latest layout end (ms) the entry was brought to; an
	// evaluation that ends before it reads the store, not the entry.
	end int64
	// cold is the cycle whose sync is loading the entry whole; it is not
	// loaded meanwhile, and a load of its own (by data) wins over it.
	cold uint64
}

const (
	msHour   = int64(time.Hour / time.Millisecond)
	msMinute = int64(time.Minute / time.Millisecond)
)

// needKey is what Windows depends on: the definition and the span from
// the SLO window's start to the end.
type needKey struct {
	def  *Definition
	span time.Duration
}

// reset empties the entry for a whole read of the layout starting at hs
// (hours) and ms (minutes).
func (e *cacheEntry) reset(hs, ms time.Time) {
	e.loaded, e.version, e.latency = true, 0, false
	e.hourBase, e.hours = db.Millis(hs)/msHour, nil
	e.minuteBase, e.minutes = db.Millis(ms)/msMinute, nil
	e.hourSums.reset()
	e.minuteSums.reset()
	e.p95, e.p95Key, e.synced, e.end = -1, [4]int64{}, 0, 0
}

// past reports whether an evaluation ending at end lies before the latest
// one the entry was brought to.
func (e *cacheEntry) past(end time.Time) bool {
	return e.loaded && db.Millis(end) < e.end
}

// covers reports whether the entry holds everything a layout needs.
func (e *cacheEntry) covers(hs, ms time.Time) bool {
	return e.loaded && db.Millis(hs)/msHour >= e.hourBase && db.Millis(ms)/msMinute >= e.minuteBase
}

// slide drops what lies before the layout and makes room up to end plus
// cacheAhead.
func (e *cacheEntry) slide(hs, ms, end time.Time) {
	h0, m0 := db.Millis(hs)/msHour, db.Millis(ms)/msMinute
	if d := h0 - e.hourBase; d > 0 {
		n := min(int(d), len(e.hours))
		e.hours = e.hours[n:]
		e.hourSums.drop(n)
		e.hourBase = h0
	}
	if d := m0 - e.minuteBase; d > 0 {
		n := min(int(d), len(e.minutes))
		e.minutes = e.minutes[n:]
		e.minuteSums.drop(n)
		e.minuteBase = m0
	}
	horizon := db.Millis(end.Add(cacheAhead))
	if n := int(horizon/msHour - e.hourBase + 1); n > len(e.hours) {
		e.hours = append(e.hours, make([]hourRow, n-len(e.hours))...)
	}
	if n := int(horizon/msMinute - e.minuteBase + 1); n > len(e.minutes) {
		e.minutes = append(e.minutes, make([]minuteRow, n-len(e.minutes))...)
	}
	e.hourSums.grow(len(e.hours))
	e.minuteSums.grow(len(e.minutes))
}

// apply puts a bucket in place; buckets before the entry's bases belong
// to no window any more. A bucket past the entry's rows (read by a load
// at a past instant, or written ahead of an evaluation behind the clock)
// grows them, so that no bucket the entry's version covers is missed
// when the entry moves forward.
func (e *cacheEntry) apply(r bucketRow) {
	e.latency = e.latency || r.latency
	switch r.res {
	case resHour:
		if i := r.start/msHour - e.hourBase; i >= 0 {
			if i >= int64(len(e.hours)) {
				e.hours = append(e.hours, make([]hourRow, int(i)+1-len(e.hours))...)
				e.hourSums.grow(len(e.hours))
			}
			e.hours[i] = hourRow{r.good, r.total, int32(r.goodSlices), int32(r.slice)}
			e.hourSums.changed(int(i))
		}
	case resMinute:
		if i := r.start/msMinute - e.minuteBase; i >= 0 {
			if i >= int64(len(e.minutes)) {
				e.minutes = append(e.minutes, make([]minuteRow, int(i)+1-len(e.minutes))...)
				e.minuteSums.grow(len(e.minutes))
			}
			e.minutes[i] = minuteRow{r.good, r.total}
			e.minuteSums.changed(int(i))
		}
	}
}

// sumsData is an SLO's data as the sums of the windows Evaluate reads.
type sumsData struct {
	end  time.Time
	sums map[time.Duration]Counts
	p95  float64
	// def, need and list are the windows Windows(def, end) lists and
	// their sums, which Evaluate then need not compute again.
	def  *Definition
	need []time.Duration
	list []Counts
}

func (d *sumsData) WindowEnd() time.Time { return d.end }
func (d *sumsData) P95Ms() float64       { return d.p95 }
func (d *sumsData) Sums(ds []time.Duration) []Counts {
	out := make([]Counts, len(ds))
	for i, w := range ds {
		out[i] = d.sums[w]
	}
	return out
}

// data returns def's data for the window from, evaluated at now: the sums
// of every window Evaluate reads, computed over the entry as Series would
// lay it out (the layout Store.Load reads), without copying it.
func (e *cacheEntry) data(def *Definition, from, now time.Time) Data {
	if def.Method == Timeslices {
		ser := e.series(def, from, now)
		return &ser
	}
	hs, ms, end := SeriesLayout(from, now)
	h0, m0 := int(db.Millis(hs)/msHour-e.hourBase), int(db.Millis(ms)/msMinute-e.minuteBase)
	nh, nm := int(ms.Sub(hs)/time.Hour), int(end.Sub(ms)/time.Minute)
	wfrom, _ := def.Window.Bounds(end)
	if k := (needKey{def, end.Sub(wfrom)}); k != e.needKey || e.need == nil {
		e.need, e.needKey = Windows(def, end), k
	}
	need := e.need
	e.hourSums.update(h0+nh, func(i int) prefix { return prefix{e.hours[i].good, e.hours[i].total} })
	e.minuteSums.update(m0+nm, func(i int) prefix { return prefix{e.minutes[i].good, e.minutes[i].total} })
	// The windows as windowSums counts them: a window of lim minutes
	// holds the minutes that start at most lim minutes before the end,
	// and once it holds every minute, the hours whose middle lies
	// inside it.
	base := int(end.Sub(hs) / time.Minute)
	d := &sumsData{end: end, sums: make(map[time.Duration]Counts, len(need)), p95: -1, def: def, need: need, list: make([]Counts, len(need))}
	for i, w := range need {
		lim := int(w / time.Minute)
		var c Counts
		if lim < nm {
			c = e.minuteSums.sum(m0+nm-lim, m0+nm)
		} else {
			first := 0
			if x := base - 30 - lim; x > 0 {
				first = min((x+59)/60, nh)
			}
			c = e.minuteSums.sum(m0, m0+nm).Add(e.hourSums.sum(h0+first, h0+nh))
		}
		d.sums[w], d.list[i] = c, c
	}
	return d
}

// series lays the entry's data out for def's window from, evaluated at
// now (the layout Store.Load reads).
func (e *cacheEntry) series(def *Definition, from, now time.Time) Series {
	hs, ms, end := SeriesLayout(from, now)
	h0, m0 := db.Millis(hs)/msHour-e.hourBase, db.Millis(ms)/msMinute-e.minuteBase
	nh, nm := int(ms.Sub(hs)/time.Hour), int(end.Sub(ms)/time.Minute)
	if def.Method == Timeslices {
		hours := make([]Bucket, 0, nh)
		for i := range nh {
			r := e.hours[h0+int64(i)]
			hours = append(hours, Bucket{Start: hs.Add(time.Duration(i) * time.Hour), Counts: Counts{float64(r.goodSlices), float64(r.slices), float64(r.total)}})
		}
		minutes := make([]Bucket, 0, nm)
		for i := range nm {
			if r := e.minutes[m0+int64(i)]; r.total > 0 {
				minutes = append(minutes, Bucket{Start: ms.Add(time.Duration(i) * time.Minute), Counts: Counts{float64(r.good), float64(r.total), float64(r.total)}})
			}
		}
		return NewSeries(from, now, hours, SliceBuckets(minutes, def.TimeSliceWindow, def.TimeSliceTarget, end))
	}
	s := Series{HourStart: hs, MinuteStart: ms, End: end, LatencyP95Ms: -1, Hours: make([]Counts, nh), Minutes: make([]Counts, nm)}
	for i := range s.Hours {
		r := e.hours[h0+int64(i)]
		s.Hours[i] = Counts{float64(r.good), float64(r.total), float64(r.total)}
	}
	for i := range s.Minutes {
		r := e.minutes[m0+int64(i)]
		s.Minutes[i] = Counts{float64(r.good), float64(r.total), float64(r.total)}
	}
	return s
}

// nativeSource reads native SLOs through the cache.
type nativeSource struct {
	st *Store

	mu      sync.Mutex
	entries map[string]*cacheEntry
	cycles  uint64 // syncs so far
}

func newNativeSource(st *Store) *nativeSource {
	return &nativeSource{st: st, entries: map[string]*cacheEntry{}}
}

func (n *nativeSource) entry(name string) *cacheEntry {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.entries[name]
	if !ok {
		e = &cacheEntry{}
		n.entries[name] = e
	}
	return e
}

// forget drops the entries of SLOs not in keep.
func (n *nativeSource) forget(keep map[string]bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for name := range n.entries {
		if !keep[name] {
			delete(n.entries, name)
		}
	}
}

// sync brings the entries of defs up to date for an evaluation at now in
// two queries: every SLO's version, then the buckets written since the
// version each entry holds. Entries not loaded yet (or whose window now
// starts before what they hold) are loaded whole, coldChunk SLOs a query
// (see loadCold). It returns the cycle's number, which data takes to know
// an entry needs no read of its own; an entry whose load failed is left
// to data, which loads it alone.
func (n *nativeSource) sync(ctx context.Context, defs []*Definition, now time.Time) (uint64, error) {
	if n.st == nil {
		return 0, nil
	}
	n.mu.Lock()
	n.cycles++
	cycle := n.cycles
	n.mu.Unlock()
	versions, err := n.st.versions(ctx, "")
	if err != nil {
		return 0, err
	}
	since := map[string]int64{}
	ready := map[string]*cacheEntry{}
	cold := map[coldKey][]string{}
	for _, def := range defs {
		e := n.entry(def.Name)
		from, _ := def.Window.Bounds(now)
		hs, ms, end := SeriesLayout(from, now)
		e.mu.Lock()
		if e.past(end) {
			e.mu.Unlock()
			continue // data reads the store for it
		}
		if e.covers(hs, ms) {
			e.slide(hs, ms, end)
			ready[def.Name] = e
			if v := versions[def.Name]; v > e.version {
				since[def.Name] = e.version
			}
		} else {
			e.reset(hs, ms)
			e.slide(hs, ms, end)
			e.loaded, e.cold = false, cycle
			k := coldKey{db.Millis(hs), db.Millis(ms)}
			cold[k] = append(cold[k], def.Name)
		}
		e.end = max(e.end, db.Millis(end))
		e.mu.Unlock()
	}
	for k, names := range cold {
		for len(names) > 0 {
			chunk := names[:min(coldChunk, len(names))]
			names = names[len(chunk):]
			err := n.st.windows(ctx, chunk, k, func(r bucketRow) {
				e := n.entry(r.slo)
				e.mu.Lock()
				if !e.loaded && e.cold == cycle {
					e.apply(r)
				}
				e.mu.Unlock()
			})
			for _, name := range chunk {
				e := n.entry(name)
				e.mu.Lock()
				if err == nil && !e.loaded && e.cold == cycle {
					e.loaded = true
				}
				if e.loaded { // else data reads it alone
					ready[name] = e
				}
				e.mu.Unlock()
			}
		}
	}
	var upto int64
	for _, v := range versions {
		upto = max(upto, v)
	}
	rows, err := n.st.changed(ctx, since, upto)
	if err != nil {
		return 0, err
	}
	for _, r := range rows {
		e := ready[r.slo]
		e.mu.Lock()
		e.apply(r)
		e.mu.Unlock()
	}
	for name, e := range ready {
		e.mu.Lock()
		e.version = max(e.version, versions[name])
		e.synced = cycle
		e.mu.Unlock()
	}
	return cycle, nil
}

// Data returns def's data at now from its entry, brought up to date first
// (loaded whole when it was not yet).
func (n *nativeSource) Data(ctx context.Context, def *Definition, now time.Time) (Data, error) {
	return n.data(ctx, def, now, 0)
}

// data is Data within a cycle: an entry that the cycle's sync brought up
// to date is used as it is.
func (n *nativeSource) data(ctx context.Context, def *Definition, now time.Time, cycle uint64) (Data, error) {
	if n.st == nil {
		return nil, errors.New("no store")
	}
	from, _ := def.Window.Bounds(now)
	hs, ms, end := SeriesLayout(from, now)
	e := n.entry(def.Name)
	e.mu.Lock()
	if e.past(end) {
		// An instant before the entry's latest: read whole from the
		// store, the entry left as it is for the present.
		e.mu.Unlock()
		ser, err := n.st.Load(ctx, def, from, now)
		if err != nil {
			return nil, err
		}
		return &ser, nil
	}
	defer e.mu.Unlock()
	if cycle == 0 || e.synced != cycle || !e.covers(hs, ms) {
		vs, err := n.st.versions(ctx, def.Name)
		if err != nil {
			return nil, err
		}
		v := vs[def.Name]
		var rows []bucketRow
		if e.covers(hs, ms) {
			e.slide(hs, ms, end)
			if v > e.version {
				rows, err = n.st.changed(ctx, map[string]int64{def.Name: e.version}, v)
			}
		} else {
			e.reset(hs, ms)
			e.slide(hs, ms, end)
			rows, err = n.st.window(ctx, def.Name, hs, ms)
		}
		if err != nil {
			e.loaded = false // read again whole next time
			return nil, err
		}
		for _, r := range rows {
			e.apply(r)
		}
		e.version = max(e.version, v)
	}
	e.end = max(e.end, db.Millis(end))
	data := e.data(def, from, now)
	p95 := -1.0
	if e.latency {
		key := [4]int64{e.version, db.Millis(hs), db.Millis(ms), db.Millis(end)}
		if key != e.p95Key {
			lat, err := n.st.latencyOver(ctx, def.Name, hs, ms, end)
			if err != nil {
				return nil, err
			}
			e.p95, e.p95Key = -1, key
			if p, ok := lat.Quantile(0.95); ok {
				e.p95 = p
			}
		}
		p95 = e.p95
	}
	switch d := data.(type) {
	case *sumsData:
		d.p95 = p95
	case *Series:
		d.LatencyP95Ms = p95
	}
	return data, nil
}

func (n *nativeSource) Hours(ctx context.Context, def *Definition, from, to time.Time) ([]Bucket, error) {
	if n.st == nil {
		return nil, errors.New("no store")
	}
	return n.st.Hours(ctx, def, from, to)
}

// versions reads the data version of slo, or of every SLO for "". An SLO
// never written since versions exist is version 0.
func (s *Store) versions(ctx context.Context, slo string) (map[string]int64, error) {
	q, args := `SELECT slo, version FROM slo_native_versions`, []any{}
	if slo != "" {
		q, args = q+` WHERE slo = ?`, []any{slo}
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read data versions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("read data versions: %w", err)
		}
		out[name] = v
	}
	return out, rows.Err()
}

const bucketCols = `b.slo, b.res, b.start_ms, b.good, b.total, b.good_slices, b.slices, b.latency IS NOT NULL`

func scanBuckets(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) ([]bucketRow, error) {
	var out []bucketRow
	for rows.Next() {
		var r bucketRow
		if err := rows.Scan(&r.slo, &r.res, &r.start, &r.good, &r.total, &r.goodSlices, &r.slice, &r.latency); err != nil {
			return nil, fmt.Errorf("read buckets: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// changed reads the buckets of each SLO in since stamped after its
// version v there, in one query: the index on (slo, version) finds them.
// The query asks for the versions (v, v + upto], upto being the highest
// version the caller read, which holds every version up to it (a bucket
// of a later write that it returns as well is read again next time,
// which is harmless). The upper bound is for PostgreSQL's planner: it
// takes a range whose two bounds it cannot see at plan time as narrow,
// and looks each SLO up in the index, where for a lone "version > v" it
// expects a third of the table and scans all of it.
func (s *Store) changed(ctx context.Context, since map[string]int64, upto int64) ([]bucketRow, error) {
	if len(since) == 0 {
		return nil, nil
	}
	arg, err := json.Marshal(since)
	if err != nil {
		return nil, fmt.Errorf("read changed buckets: %w", err)
	}
	rows, err := s.db.Query(ctx, changedQuery(s.db.Dialect()), string(arg), upto)
	if err != nil {
		return nil, fmt.Errorf("read changed buckets: %w", err)
	}
	defer rows.Close()
	return scanBuckets(rows)
}

// changedQuery is the query of changed: the SLOs and their versions as a
// JSON object, then upto.
func changedQuery(d db.Dialect) string {
	return `SELECT ` + bucketCols + ` FROM ` + d.JSONObjectPairs() + ` w
JOIN slo_buckets b ON b.slo = w.key AND b.version > CAST(w.value AS BIGINT) AND b.version <= CAST(w.value AS BIGINT) + ?`
}

// coldKey is the layout of SLOs loaded whole together: hours from hs,
// minutes from ms (milliseconds).
type coldKey struct{ hs, ms int64 }

// coldChunk is how many SLOs one query of a cold load reads: many, since
// PostgreSQL reads most of the table for a cold load whatever the chunk.
const coldChunk = 10000

// windows reads the hour rollups from k.hs and the minutes from k.ms of
// the SLOs names (every later bucket too: see apply), in two queries,
// handing each bucket to fn as it is read.
func (s *Store) windows(ctx context.Context, names []string, k coldKey, fn func(bucketRow)) error {
	keys := make(map[string]int, len(names))
	for _, n := range names {
		keys[n] = 0
	}
	arg, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("read buckets: %w", err)
	}
	for _, q := range []struct {
		res  int
		from int64
	}{{resHour, k.hs}, {resMinute, k.ms}} {
		rows, err := s.db.Query(ctx, `SELECT `+bucketCols+` FROM `+s.db.Dialect().JSONObjectPairs()+` w
JOIN slo_buckets b ON b.slo = w.key AND b.res = ? AND b.start_ms >= ?`, string(arg), q.res, q.from)
		if err != nil {
			return fmt.Errorf("read buckets: %w", err)
		}
		for rows.Next() {
			var r bucketRow
			if err := rows.Scan(&r.slo, &r.res, &r.start, &r.good, &r.total, &r.goodSlices, &r.slice, &r.latency); err != nil {
				rows.Close()
				return fmt.Errorf("read buckets: %w", err)
			}
			fn(r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read buckets: %w", err)
		}
	}
	return nil
}

// window reads slo's hour rollups from hs and minutes from ms (every
// later bucket too: see apply).
func (s *Store) window(ctx context.Context, slo string, hs, ms time.Time) ([]bucketRow, error) {
	rows, err := s.db.Query(ctx, `SELECT `+bucketCols+` FROM slo_buckets b
WHERE b.slo = ? AND ((b.res = ? AND b.start_ms >= ?) OR (b.res = ? AND b.start_ms >= ?))`,
		slo, resHour, db.Millis(hs), resMinute, db.Millis(ms))
	if err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	defer rows.Close()
	return scanBuckets(rows)
}

// latencyOver merges slo's latency sketches of hours in [hs, ms) and
// minutes in [ms, end): the distribution of a Series' window.
func (s *Store) latencyOver(ctx context.Context, slo string, hs, ms, end time.Time) (*Latency, error) {
	lat := NewLatency()
	rows, err := s.db.Query(ctx, `SELECT start_ms, latency FROM slo_buckets
WHERE slo = ? AND latency IS NOT NULL AND ((res = ? AND start_ms >= ? AND start_ms < ?) OR (res = ? AND start_ms >= ? AND start_ms < ?))`,
		slo, resHour, db.Millis(hs), db.Millis(ms), resMinute, db.Millis(ms), db.Millis(end))
	if err != nil {
		return nil, fmt.Errorf("read latency: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ms int64
		var b []byte
		if err := rows.Scan(&ms, &b); err != nil {
			return nil, fmt.Errorf("read latency: %w", err)
		}
		if err := lat.MergeEncoded(b); err != nil {
			return nil, fmt.Errorf("bucket %s of %s: %w", db.Time(ms).Format(time.RFC3339), slo, err)
		}
	}
	return lat, rows.Err()
}

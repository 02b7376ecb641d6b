package sli

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/tandemhq/tandem/internal/slo"
)

// Reasons an OTLP data point is dropped (tandem_otlp_points_dropped_total
// and the export response's partial_success).
const (
	DropNoSLO        = "no_slo"           // no SLO reads the metric
	DropNoMatch      = "no_match"         // no SLO's attributes match the point
	DropUnsupported  = "unsupported_type" // a Gauge or Summary
	DropNonMonotonic = "non_monotonic"    // a Sum that can go down
	DropTemporality  = "temporality"      // aggregation temporality unspecified
	DropNoValue      = "no_value"         // the point is flagged as having no recorded value
	DropOutOfRange   = "out_of_range"     // its time is outside the accepted range
	DropBadValue     = "bad_value"        // a negative, fractional or huge count
	DropMalformed    = "malformed"        // bucket counts that do not add up, bounds not increasing, scale out of range
	DropUnit         = "unit"             // a histogram whose unit is not a time tandem converts
	DropNotHistogram = "not_histogram"    // a Sum feeding an SLO that judges latency
)

// DropReasons explains each reason a point is dropped.
var DropReasons = map[string]string{
	DropNoSLO:        "no SLO reads the metric",
	DropNoMatch:      "no SLO's attributes match the point",
	DropUnsupported:  "a gauge or summary; tandem counts monotonic sums and histograms",
	DropNonMonotonic: "a sum that can go down",
	DropTemporality:  "aggregation temporality unspecified",
	DropNoValue:      "flagged as having no recorded value",
	DropOutOfRange:   "its time is outside the accepted range",
	DropBadValue:     "a negative, fractional or too large count",
	DropMalformed:    "bucket counts that do not add up to the count, bounds not increasing or a scale outside -10..20",
	DropUnit:         "a histogram whose unit is not s, ms, us or ns",
	DropNotHistogram: "a sum feeding an SLO that judges latency",
}

const (
	maxCount           = 1 << 40
	statusAttr         = "http.response.status_code"
	statusAttrOld      = "http.status_code"
	expScaleMin        = -10
	expScaleMax        = 20
	acceptedFutureSkew = 5 * time.Minute
)

// OTLPMapping is what an OTLP export request gives tandem's SLOs: one
// SeriesPoint per data point and SLO it feeds, and the count of points
// that fed none, by reason.
type OTLPMapping struct {
	Points  []slo.SeriesPoint
	Dropped map[string]int64
	// Matched counts the data points that fed at least one SLO.
	Matched int64
}

// DroppedTotal is the number of points dropped, whatever the reason.
func (m OTLPMapping) DroppedTotal() int64 {
	var n int64
	for _, c := range m.Dropped {
		n += c
	}
	return n
}

// OTLPIndex lists the SLOs that read OTLP metrics, by metric name.
type OTLPIndex map[string][]*slo.Definition

// NewOTLPIndex indexes the definitions whose indicator has an OTLP
// selector.
func NewOTLPIndex(defs []*slo.Definition) OTLPIndex {
	idx := OTLPIndex{}
	for _, d := range defs {
		if d.Indicator.OTLP != nil {
			idx[d.Indicator.OTLP.Metric] = append(idx[d.Indicator.OTLP.Metric], d)
		}
	}
	return idx
}

// OTLP maps the metrics of an export request onto the SLOs of idx at now.
//
// What maps: a monotonic Sum, cumulative or delta, whose points each count
// Value events (integers; a double must be a whole number); a Histogram or
// ExponentialHistogram, whose points each count Count observations. A
// point feeds an SLO when its metric is the SLO's and it matches the SLO's
// attribute matchers (looked up on the point, then on its resource); it
// then adds all its events to total and, when it matches the good matchers
// and MaxStatus, its good ones to good: all of them, or with LatencyMaxMs
// the observations at most that long.
//
// Boundary semantics of "at most LatencyMaxMs" (converted into the
// histogram's unit: s, ms, us or ns): an explicit-bounds bucket covers
// (bounds[i-1], bounds[i]] and is good when its upper bound is at most the
// threshold; an exponential bucket of index i covers (base^i, base^(i+1)]
// with base 2^(2^-scale) and is good when base^(i+1) is at most the
// threshold; the zero bucket is good when its zero_threshold is, and
// negative buckets always are. A bucket the threshold falls inside is bad:
// its observations may lie either side, and tandem counts them against the
// objective, never for it. Thresholds that are bucket boundaries are exact.
//
// Points whose time lies before slo.HourRetention or more than five
// minutes after now are dropped (DropOutOfRange), as are the other points
// no SLO can count, each with its reason; dropping is not an error.
func OTLP(md pmetric.Metrics, idx OTLPIndex, now time.Time) OTLPMapping {
	out := OTLPMapping{Dropped: map[string]int64{}}
	oldest, newest := now.Add(-slo.HourRetention), now.Add(acceptedFutureSkew)
	var resKey []byte
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		resKey = resKey[:0]
		resAttrs := rm.Resource().Attributes()
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			sm := sms.At(j)
			ms := sm.Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				defs := idx[m.Name()]
				if len(defs) == 0 {
					out.Dropped[DropNoSLO] += int64(pointCount(m))
					continue
				}
				if len(resKey) == 0 {
					resKey = appendAttrs(append(resKey, 'r'), resAttrs)
				}
				mp := metricMapper{out: &out, defs: defs, res: resAttrs, oldest: oldest, newest: newest}
				mp.prefix = append(append(append(append([]byte(nil), resKey...), 's'), sm.Scope().Name()...), 0)
				mp.prefix = append(append(append(append(mp.prefix, sm.Scope().Version()...), 0), m.Name()...), 0)
				mp.metric(m)
			}
		}
	}
	return out
}

type metricMapper struct {
	out            *OTLPMapping
	defs           []*slo.Definition
	res            pcommon.Map
	prefix         []byte
	oldest, newest time.Time
	unitMs         float64 // milliseconds per unit of a histogram
}

func (mp *metricMapper) drop(reason string, n int) { mp.out.Dropped[reason] += int64(n) }

func (mp *metricMapper) metric(m pmetric.Metric) {
	switch m.Type() {
	case pmetric.MetricTypeSum:
		s := m.Sum()
		pts := s.DataPoints()
		switch {
		case !s.IsMonotonic():
			mp.drop(DropNonMonotonic, pts.Len())
			return
		case s.AggregationTemporality() == pmetric.AggregationTemporalityUnspecified:
			mp.drop(DropTemporality, pts.Len())
			return
		}
		cum := s.AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		for i := 0; i < pts.Len(); i++ {
			p := pts.At(i)
			var n int64
			switch p.ValueType() {
			case pmetric.NumberDataPointValueTypeInt:
				n = p.IntValue()
			case pmetric.NumberDataPointValueTypeDouble:
				v := p.DoubleValue()
				if v != math.Trunc(v) || v < 0 || v > maxCount {
					n = -1
				} else {
					n = int64(v)
				}
			default:
				n = -1
			}
			if !mp.pointOK(p.Flags(), p.Timestamp()) {
				continue
			}
			if n < 0 || n > maxCount {
				mp.drop(DropBadValue, 1)
				continue
			}
			mp.point(p.Attributes(), cum, p.StartTimestamp(), p.Timestamp(), n, false, func(float64) int64 { return n })
		}
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		pts := h.DataPoints()
		if !mp.histogram(m, h.AggregationTemporality(), pts.Len()) {
			return
		}
		cum := h.AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		for i := 0; i < pts.Len(); i++ {
			p := pts.At(i)
			if !mp.pointOK(p.Flags(), p.Timestamp()) {
				continue
			}
			if p.Count() > maxCount || !explicitOK(p) {
				mp.drop(DropMalformed, 1)
				continue
			}
			mp.point(p.Attributes(), cum, p.StartTimestamp(), p.Timestamp(), int64(p.Count()), true, func(t float64) int64 {
				return int64(ExplicitGood(p.ExplicitBounds().AsRaw(), p.BucketCounts().AsRaw(), t))
			})
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		pts := h.DataPoints()
		if !mp.histogram(m, h.AggregationTemporality(), pts.Len()) {
			return
		}
		cum := h.AggregationTemporality() == pmetric.AggregationTemporalityCumulative
		for i := 0; i < pts.Len(); i++ {
			p := pts.At(i)
			if !mp.pointOK(p.Flags(), p.Timestamp()) {
				continue
			}
			if p.Count() > maxCount || !exponentialOK(p) {
				mp.drop(DropMalformed, 1)
				continue
			}
			mp.point(p.Attributes(), cum, p.StartTimestamp(), p.Timestamp(), int64(p.Count()), true, func(t float64) int64 {
				return int64(ExponentialGood(p, t))
			})
		}
	default:
		mp.drop(DropUnsupported, pointCount(m))
	}
}

// histogram checks a histogram metric's temporality and unit, and sets
// unitMs; false when its points are dropped.
func (mp *metricMapper) histogram(m pmetric.Metric, t pmetric.AggregationTemporality, n int) bool {
	if t == pmetric.AggregationTemporalityUnspecified {
		mp.drop(DropTemporality, n)
		return false
	}
	mp.unitMs = unitMillis[m.Unit()]
	return true
}

// unitMillis is the milliseconds in one unit of a histogram (UCUM codes,
// as OpenTelemetry's semantic conventions write them).
var unitMillis = map[string]float64{"s": 1000, "ms": 1, "us": 1e-3, "ns": 1e-6}

// pointOK drops a point without a recorded value or with a time outside
// the accepted range.
func (mp *metricMapper) pointOK(flags pmetric.DataPointFlags, ts pcommon.Timestamp) bool {
	if flags.NoRecordedValue() {
		mp.drop(DropNoValue, 1)
		return false
	}
	t := ts.AsTime()
	if ts == 0 || t.Before(mp.oldest) || t.After(mp.newest) {
		mp.drop(DropOutOfRange, 1)
		return false
	}
	return true
}

// point maps one data point of total events onto the SLOs it matches;
// goodAt returns the events at most a threshold in the metric's unit (for
// a Sum: all of them).
func (mp *metricMapper) point(attrs pcommon.Map, cum bool, start, ts pcommon.Timestamp, total int64, hist bool, goodAt func(float64) int64) {
	var series string
	matched, reason := false, DropNoMatch
	for _, d := range mp.defs {
		sel := d.Indicator.OTLP
		if !matches(sel.Match, attrs, mp.res) {
			continue
		}
		var good int64
		if sel.LatencyMaxMs > 0 {
			switch {
			case !hist:
				reason = DropNotHistogram
				continue
			case mp.unitMs == 0:
				reason = DropUnit
				continue
			}
		}
		if matches(sel.Good, attrs, mp.res) && statusBelow(sel.MaxStatus, attrs, mp.res) {
			if sel.LatencyMaxMs > 0 {
				good = goodAt(sel.LatencyMaxMs / mp.unitMs)
			} else {
				good = total
			}
		}
		if series == "" {
			series = seriesKey(mp.prefix, attrs)
		}
		st := time.Time{}
		if start != 0 {
			st = start.AsTime().UTC()
		}
		mp.out.Points = append(mp.out.Points, slo.SeriesPoint{
			SLO: d.Name, Series: series, Cumulative: cum,
			Start: st, Time: ts.AsTime().UTC(), Good: good, Total: total,
		})
		matched = true
	}
	if matched {
		mp.out.Matched++
	} else {
		mp.drop(reason, 1)
	}
}

// lookup finds an attribute on the point, then on its resource.
func lookup(key string, attrs, res pcommon.Map) (pcommon.Value, bool) {
	if v, ok := attrs.Get(key); ok {
		return v, true
	}
	return res.Get(key)
}

func matches(ms []slo.AttrMatcher, attrs, res pcommon.Map) bool {
	for _, m := range ms {
		v, ok := lookup(m.Key, attrs, res)
		if !ok || !slices.Contains(m.Values, v.AsString()) {
			return false
		}
	}
	return true
}

// statusBelow reports whether the point's HTTP status is below max (true
// when max is 0: status is not judged).
func statusBelow(max int, attrs, res pcommon.Map) bool {
	if max <= 0 {
		return true
	}
	v, ok := lookup(statusAttr, attrs, res)
	if !ok {
		if v, ok = lookup(statusAttrOld, attrs, res); !ok {
			return false
		}
	}
	var code int64
	switch v.Type() {
	case pcommon.ValueTypeInt:
		code = v.Int()
	case pcommon.ValueTypeStr:
		c, err := strconv.ParseInt(v.Str(), 10, 64)
		if err != nil {
			return false
		}
		code = c
	default:
		return false
	}
	return code < int64(max)
}

// seriesKey hashes a point's identity: prefix (resource, scope and metric)
// and its attributes, sorted by key.
func seriesKey(prefix []byte, attrs pcommon.Map) string {
	b := appendAttrs(append(append([]byte(nil), prefix...), 'a'), attrs)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// appendAttrs appends attrs, sorted by key, unambiguously (lengths first).
func appendAttrs(b []byte, attrs pcommon.Map) []byte {
	keys := make([]string, 0, attrs.Len())
	for k := range attrs.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, _ := attrs.Get(k)
		s := v.AsString()
		b = strconv.AppendInt(b, int64(len(k)), 10)
		b = append(append(b, ':'), k...)
		b = strconv.AppendInt(append(b, byte('0'+v.Type())), int64(len(s)), 10)
		b = append(append(b, ':'), s...)
	}
	return b
}

// explicitOK reports whether an explicit-bounds point is well formed:
// bounds strictly increasing, and either no bucket counts or one more than
// bounds, adding up to the count.
func explicitOK(p pmetric.HistogramDataPoint) bool {
	bounds, counts := p.ExplicitBounds(), p.BucketCounts()
	for i := 0; i < bounds.Len(); i++ {
		if math.IsNaN(bounds.At(i)) || (i > 0 && bounds.At(i) <= bounds.At(i-1)) {
			return false
		}
	}
	if counts.Len() == 0 {
		return true
	}
	if counts.Len() != bounds.Len()+1 {
		return false
	}
	var sum uint64
	for i := 0; i < counts.Len(); i++ {
		sum += counts.At(i)
		if sum > maxCount {
			return false
		}
	}
	return sum == p.Count()
}

// ExplicitGood counts the observations of an explicit-bounds histogram at
// most t: the buckets whose upper bound is at most t (bucket i covers
// (bounds[i-1], bounds[i]], the last one (bounds[n-1], +Inf)). The bucket
// t falls inside counts as bad. Without bucket counts nothing is known to
// be at most t: 0.
func ExplicitGood(bounds []float64, counts []uint64, t float64) uint64 {
	var good uint64
	for i, b := range bounds {
		if i >= len(counts) || b > t {
			break
		}
		good += counts[i]
	}
	return good
}

// exponentialOK reports whether an exponential point is well formed: a
// scale tandem handles and bucket counts adding up to the count.
func exponentialOK(p pmetric.ExponentialHistogramDataPoint) bool {
	if p.Scale() < expScaleMin || p.Scale() > expScaleMax || p.ZeroThreshold() < 0 || math.IsNaN(p.ZeroThreshold()) {
		return false
	}
	sum := p.ZeroCount()
	for _, b := range []pmetric.ExponentialHistogramDataPointBuckets{p.Positive(), p.Negative()} {
		c := b.BucketCounts()
		for i := 0; i < c.Len(); i++ {
			sum += c.At(i)
			if sum > maxCount {
				return false
			}
		}
	}
	return sum == p.Count()
}

// ExponentialGood counts the observations of an exponential histogram at
// most t (t > 0): negative buckets, the zero bucket when its threshold is
// at most t, and the positive buckets of index i whose upper bound
// base^(i+1) is at most t. The bucket t falls inside counts as bad.
func ExponentialGood(p pmetric.ExponentialHistogramDataPoint, t float64) uint64 {
	var good uint64
	neg := p.Negative().BucketCounts()
	for i := 0; i < neg.Len(); i++ {
		good += neg.At(i)
	}
	if p.ZeroThreshold() <= t {
		good += p.ZeroCount()
	}
	// Bucket i is good when i+1 <= j, j the largest index with base^j <= t.
	last := int64(maxBoundIndex(t, p.Scale())) - 1 - int64(p.Positive().Offset())
	pos := p.Positive().BucketCounts()
	for k := int64(0); k < int64(pos.Len()) && k <= last; k++ {
		good += pos.At(int(k))
	}
	return good
}

// maxBoundIndex returns the largest j with 2^(j·2^-scale) <= t (t > 0,
// finite): exact for scale <= 0 and at powers of two; for scale > 0
// within float64 rounding of a boundary that is not one.
func maxBoundIndex(t float64, scale int32) int64 {
	if math.IsInf(t, 1) {
		return math.MaxInt32
	}
	_, exp := math.Frexp(t)    // t = frac·2^exp, frac in [0.5, 1)
	floorLog := int64(exp - 1) // floor(log2 t), exactly
	if scale <= 0 {
		step := int64(1) << -scale // base^j = 2^(j·step)
		return floorDiv(floorLog, step)
	}
	n := int64(1) << scale
	j := int64(math.Floor(math.Log2(t) * float64(n)))
	bound := func(j int64) float64 {
		q := floorDiv(j, n)
		r := j - q*n
		return math.Ldexp(math.Exp2(float64(r)/float64(n)), int(q))
	}
	for bound(j+1) <= t {
		j++
	}
	for bound(j) > t {
		j--
	}
	return j
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// pointCount is the number of data points of m.
func pointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

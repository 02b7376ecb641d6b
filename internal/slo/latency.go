package slo

import (
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
)

// LatencyAccuracy is the relative accuracy of native latency quantiles:
// the quantile q of any set of buckets (a minute, an hour's rollup, any
// merge of them) is within LatencyAccuracy of the exact value of rank
// ⌊q·(n−1)⌋ among the n sorted observations.
const LatencyAccuracy = 0.01

// latencyMapping is the index mapping every native latency sketch shares,
// so that sketches of any bucket merge exactly (their bins line up).
var latencyMapping = func() mapping.IndexMapping {
	m, err := mapping.NewLogarithmicMapping(LatencyAccuracy)
	if err != nil {
		panic(err) // a constant accuracy in (0, 1) never fails
	}
	return m
}()

// Latency is a distribution of latencies in milliseconds, held as a
// DDSketch (github.com/DataDog/sketches-go): logarithmic bins of relative
// width LatencyAccuracy, each with its count. Merging two is exact (their
// counts add), so a window's sketch is the merge of its buckets'. A nil
// *Latency is an empty distribution for every method that reads.
type Latency struct{ sk *ddsketch.DDSketch }

// NewLatency returns an empty distribution.
func NewLatency() *Latency {
	return &Latency{sk: ddsketch.NewDDSketch(latencyMapping, store.NewDenseStore(), store.NewDenseStore())}
}

// Add records one observation of ms milliseconds. ms must be finite and
// from 0 to 1e9 (ingest validates it); others are an error.
func (l *Latency) Add(ms float64) error {
	if math.IsNaN(ms) || ms < 0 || ms > 1e9 {
		return fmt.Errorf("latency %v ms: want 0 to 1e9", ms)
	}
	return l.sk.Add(ms)
}

// AddN records n observations of ms milliseconds (n ≥ 0).
func (l *Latency) AddN(ms float64, n int64) error {
	if n < 0 {
		return fmt.Errorf("latency count %d: want at least 0", n)
	}
	if n == 0 {
		return nil
	}
	if math.IsNaN(ms) || ms < 0 || ms > 1e9 {
		return fmt.Errorf("latency %v ms: want 0 to 1e9", ms)
	}
	return l.sk.AddWithCount(ms, float64(n))
}

// Merge adds o's observations to l.
func (l *Latency) Merge(o *Latency) {
	if o.Count() == 0 {
		return
	}
	// Both share latencyMapping, the only case where MergeWith can fail.
	_ = l.sk.MergeWith(o.sk)
}

// Count is the number of observations.
func (l *Latency) Count() int64 {
	if l == nil || l.sk == nil {
		return 0
	}
	return int64(math.Round(l.sk.GetCount()))
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) in milliseconds, within
// LatencyAccuracy of the observation of rank ⌊q·(n−1)⌋; ok is false when
// there is no observation.
func (l *Latency) Quantile(q float64) (ms float64, ok bool) {
	if l.Count() == 0 || q < 0 || q > 1 || math.IsNaN(q) {
		return 0, false
	}
	v, err := l.sk.GetValueAtQuantile(q)
	if err != nil || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// Encode returns the sketch in DDSketch's binary encoding (with its index
// mapping, so a stored sketch says how to read it), or nil when empty.
func (l *Latency) Encode() []byte {
	if l.Count() == 0 {
		return nil
	}
	var b []byte
	l.sk.Encode(&b, false)
	return b
}

// MergeEncoded adds the observations of an encoded sketch to l. An empty
// b adds nothing; a sketch of another accuracy is an error.
func (l *Latency) MergeEncoded(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	// Decode first, so that a corrupt value leaves l as it was.
	o, err := DecodeLatency(b)
	if err != nil {
		return err
	}
	l.Merge(o)
	return nil
}

// DecodeLatency reads a sketch written by Encode (nil or empty: an empty
// distribution).
func DecodeLatency(b []byte) (*Latency, error) {
	l := NewLatency()
	if len(b) == 0 {
		return l, nil
	}
	sk, err := ddsketch.DecodeDDSketch(b, store.DenseStoreConstructor, nil)
	if err != nil {
		return nil, fmt.Errorf("decode latency sketch: %w", err)
	}
	if !sk.IndexMapping.Equals(latencyMapping) {
		return nil, fmt.Errorf("decode latency sketch: relative accuracy %g, want %g", sk.RelativeAccuracy(), LatencyAccuracy)
	}
	if sk.GetNegativeValueStore().TotalCount() != 0 {
		return nil, fmt.Errorf("decode latency sketch: negative latencies")
	}
	l.sk = sk
	return l, nil
}

// LatencyBins returns the counts of a and b in the same ascending bins
// (zero first, then every sketch bin from the lowest to the highest either
// of them holds), for rank tests such as Mann-Whitney's on binned data.
func LatencyBins(a, b *Latency) (x, y []int64) {
	lo, hi := math.MaxInt, math.MinInt
	for _, l := range []*Latency{a, b} {
		if l.Count() == 0 {
			continue
		}
		if i, err := l.sk.GetPositiveValueStore().MinIndex(); err == nil {
			lo = min(lo, i)
		}
		if i, err := l.sk.GetPositiveValueStore().MaxIndex(); err == nil {
			hi = max(hi, i)
		}
	}
	n := 1
	if lo <= hi {
		n += hi - lo + 1
	}
	fill := func(l *Latency) []int64 {
		out := make([]int64, n)
		if l.Count() == 0 {
			return out
		}
		out[0] = int64(math.Round(l.sk.GetZeroCount()))
		l.sk.GetPositiveValueStore().ForEach(func(i int, c float64) bool {
			out[1+i-lo] += int64(math.Round(c))
			return false
		})
		return out
	}
	return fill(a), fill(b)
}

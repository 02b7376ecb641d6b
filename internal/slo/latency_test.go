package slo

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/db"
	"github.com/tandemhq/tandem/internal/db/dbtest"
)

// exactQuantile is the observation of rank ⌊q·(n−1)⌋ of the sorted values:
// the value LatencyAccuracy is stated against.
func exactQuantile(sorted []float64, q float64) float64 {
	return sorted[int(math.Floor(q*float64(len(sorted)-1)))]
}

// within reports whether got is within LatencyAccuracy of want.
func within(got, want float64) bool {
	return math.Abs(got-want) <= LatencyAccuracy*want+1e-9
}

// latencyCases are three distributions of latencies (ms) as one value per
// observation index i of n.
var latencyCases = []struct {
	name string
	gen  func(r *rand.Rand) float64
}{
	// Every request takes 110 ms: the 11-bucket histogram reported 242.5.
	{"constant", func(*rand.Rand) float64 { return 110 }},
	// A cache: 70 % hits near 3 ms, 30 % misses near 600 ms.
	{"bimodal", func(r *rand.Rand) float64 {
		if r.Float64() < 0.7 {
			return 2 + 2*r.Float64()
		}
		return 550 + 100*r.Float64()
	}},
	// Long-tailed: log-normal around 80 ms with a Pareto tail to minutes.
	{"long-tailed", func(r *rand.Rand) float64 {
		if r.Float64() < 0.97 {
			return math.Exp(math.Log(80) + 0.6*r.NormFloat64())
		}
		return math.Min(1e9, 500/math.Pow(1-r.Float64(), 1/1.2))
	}},
}

// TestLatencyQuantiles: the quantiles of a minute, of an hour's rollup and
// of a merge of hours and minutes are within 1 % of the exact sorted value,
// through the store on both engines.
func TestLatencyQuantiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st := NewStore(d)
		for ci, c := range latencyCases {
			t.Run(c.name, func(t *testing.T) {
				name := "lat-" + c.name
				r := rand.New(rand.NewPCG(uint64(ci), 7))
				// Three hours ending at t0, 40 observations a minute.
				from := t0.Add(-3 * time.Hour)
				perMinute := map[time.Time][]float64{}
				var bs []NativeBucket
				for m := from; m.Before(t0); m = m.Add(time.Minute) {
					b := NativeBucket{Start: m, Good: 40, Total: 40, Latency: NewLatency()}
					for range 40 {
						v := c.gen(r)
						perMinute[m] = append(perMinute[m], v)
						if err := b.Latency.Add(v); err != nil {
							t.Fatal(err)
						}
					}
					bs = append(bs, b)
				}
				if _, err := st.Ingest(ctx, name, "test", "", bs, 0, 0, t0); err != nil {
					t.Fatal(err)
				}
				exact := func(from, to time.Time) []float64 {
					var out []float64
					for m, vs := range perMinute {
						if !m.Before(from) && m.Before(to) {
							out = append(out, vs...)
						}
					}
					slices.Sort(out)
					return out
				}
				check := func(what string, sum Sum, want []float64) {
					t.Helper()
					if sum.Latency.Count() != int64(len(want)) {
						t.Fatalf("%s: %d observations, want %d", what, sum.Latency.Count(), len(want))
					}
					for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
						got, ok := sum.Quantile(q)
						if w := exactQuantile(want, q); !ok || !within(got, w) {
							t.Errorf("%s: q%v = %v, exact %v (error %.3f%%)", what, q, got, w, 100*math.Abs(got-w)/w)
						}
					}
				}
				// One minute, then a span of minutes.
				m := t0.Add(-90 * time.Minute)
				s, _, err := st.Sum(ctx, name, m, m.Add(time.Minute))
				if err != nil {
					t.Fatal(err)
				}
				check("minute", s, exact(m, m.Add(time.Minute)))
				if s, _, err = st.Sum(ctx, name, t0.Add(-150*time.Minute), t0); err != nil {
					t.Fatal(err)
				}
				check("150 minutes", s, exact(t0.Add(-150*time.Minute), t0))
				// The SLO window merges hour rollups and minutes: its p95 is
				// that of every observation.
				def := def28d(0.99)
				def.Name = name
				ser, err := st.Load(ctx, def, t0.Add(-28*24*time.Hour), t0)
				if err != nil {
					t.Fatal(err)
				}
				if w := exactQuantile(exact(from, t0), 0.95); !within(ser.LatencyP95Ms, w) {
					t.Errorf("window p95 = %v, exact %v", ser.LatencyP95Ms, w)
				}
				// Four days on, the minutes are pruned: hour rollups answer.
				if _, err := st.Prune(ctx, t0.Add(4*24*time.Hour)); err != nil {
					t.Fatal(err)
				}
				h := t0.Add(-2 * time.Hour)
				if s, _, err = st.Sum(ctx, name, h, h.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				check("hour rollup", s, exact(h, h.Add(time.Hour)))
				if s, _, err = st.Sum(ctx, name, from, t0); err != nil {
					t.Fatal(err)
				}
				check("three hour rollups", s, exact(from, t0))
			})
		}
	})
}

// TestLatencyEncoding: a sketch survives its encoding, merges exactly, and
// a corrupt or foreign value is an error.
func TestLatencyEncoding(t *testing.T) {
	a, b := NewLatency(), NewLatency()
	for i := range 1000 {
		if err := a.Add(float64(i)); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(float64(1000 + i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Add(0); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeLatency(a.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if err := got.MergeEncoded(b.Encode()); err != nil {
		t.Fatal(err)
	}
	// 2001 values 0, 0..1999: the median is rank 1000, the value 999.
	if p, ok := got.Quantile(0.5); got.Count() != 2001 || !ok || !within(p, 999) {
		t.Errorf("merged: %d values, median %v", got.Count(), p)
	}
	if p, ok := got.Quantile(0); !ok || p != 0 {
		t.Errorf("minimum %v, want 0", p)
	}
	if _, ok := (*Latency)(nil).Quantile(0.95); ok {
		t.Error("a quantile of nothing")
	}
	if NewLatency().Encode() != nil {
		t.Error("an empty sketch encodes to bytes")
	}
	for _, bad := range [][]byte{{0xff, 0x01}, a.Encode()[:3]} {
		if err := got.MergeEncoded(bad); err == nil {
			t.Errorf("%x decoded", bad)
		}
	}
	for _, v := range []float64{-1, math.NaN(), 2e9} {
		if err := NewLatency().Add(v); err == nil {
			t.Errorf("latency %v accepted", v)
		}
	}
	x, y := LatencyBins(a, b)
	if len(x) != len(y) || x[0] != 2 || y[0] != 0 { // 0 was added twice to a: 0 and the loop's first
		t.Errorf("bins: %d %d, zero bins %d %d", len(x), len(y), x[0], y[0])
	}
	var nx, ny int64
	for i := range x {
		nx, ny = nx+x[i], ny+y[i]
	}
	if nx != 1001 || ny != 1000 {
		t.Errorf("bins hold %d and %d, want 1001 and 1000", nx, ny)
	}
}

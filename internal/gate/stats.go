package gate

import (
	"math"
	"sort"
)

// NormalCDF is Φ(z), the standard normal distribution function.
func NormalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// TwoProportion is the result of a one-sided two-proportion z-test asking
// whether the second sample's proportion is higher than the first's.
type TwoProportion struct {
	P1, P2 float64 // the observed proportions x1/n1 and x2/n2
	Z      float64
	// P is the one-sided p-value P(Z >= z) under "no increase".
	P float64
}

// TwoProportionZ tests whether x2/n2 is larger than x1/n1 with the pooled
// two-proportion z-test: z = (p2 - p1) / sqrt(p(1-p)(1/n1 + 1/n2)) where
// p = (x1+x2)/(n1+n2). With an empty sample, or when both samples have no
// (or only) successes, z is 0 and P is 1 (there is no evidence of an
// increase).
func TwoProportionZ(x1, n1, x2, n2 float64) TwoProportion {
	var r TwoProportion
	if n1 > 0 {
		r.P1 = x1 / n1
	}
	if n2 > 0 {
		r.P2 = x2 / n2
	}
	r.P = 1
	if n1 <= 0 || n2 <= 0 {
		return r
	}
	p := (x1 + x2) / (n1 + n2)
	se := math.Sqrt(p * (1 - p) * (1/n1 + 1/n2))
	if se == 0 || math.IsNaN(se) {
		return r
	}
	r.Z = (r.P2 - r.P1) / se
	r.P = 1 - NormalCDF(r.Z)
	return r
}

// RankTest is the result of a one-sided Mann-Whitney U test asking whether
// the second sample tends to be larger than the first.
type RankTest struct {
	N1, N2 float64
	// U is the Mann-Whitney statistic of the second sample: the number of
	// (x, y) pairs with y > x, ties counting one half.
	U float64
	Z float64
	// P is the one-sided p-value from the normal approximation with tie
	// correction and continuity correction.
	P float64
}

// MannWhitneyBinned runs the Mann-Whitney U test on two histograms with the
// same ordered bins (a latency histogram before and after a deploy).
// Observations in one bin are ties: they share the bin's mid-rank. For bin i
// with a_i and b_i observations and c observations in lower bins, the
// mid-rank is c + (a_i+b_i+1)/2; U2 = Σ b_i·rank_i - n2(n2+1)/2; under no
// difference U2 has mean n1·n2/2 and variance
// n1·n2/12 · ((N+1) - Σ(t³-t)/(N(N-1))) with t = a_i+b_i.
func MannWhitneyBinned(a, b []int64) RankTest {
	var r RankTest
	r.P = 1
	bins := max(len(a), len(b))
	at := func(h []int64, i int) float64 {
		if i < len(h) && h[i] > 0 {
			return float64(h[i])
		}
		return 0
	}
	for i := 0; i < bins; i++ {
		r.N1 += at(a, i)
		r.N2 += at(b, i)
	}
	n := r.N1 + r.N2
	if r.N1 == 0 || r.N2 == 0 {
		return r
	}
	var below, rankSum, ties float64
	for i := 0; i < bins; i++ {
		t := at(a, i) + at(b, i)
		if t == 0 {
			continue
		}
		rank := below + (t+1)/2
		rankSum += at(b, i) * rank
		ties += t*t*t - t
		below += t
	}
	r.U = rankSum - r.N2*(r.N2+1)/2
	mean := r.N1 * r.N2 / 2
	variance := r.N1 * r.N2 / 12 * ((n + 1) - ties/(n*(n-1)))
	if variance <= 0 {
		return r
	}
	d := r.U - mean
	// Continuity correction toward the mean.
	switch {
	case d > 0.5:
		d -= 0.5
	case d < -0.5:
		d += 0.5
	default:
		d = 0
	}
	r.Z = d / math.Sqrt(variance)
	r.P = 1 - NormalCDF(r.Z)
	return r
}

// MannWhitney runs the same test on raw samples x (before) and y (after).
func MannWhitney(x, y []float64) RankTest {
	// Bin by distinct value: each distinct value is one bin.
	vals := make([]float64, 0, len(x)+len(y))
	vals = append(vals, x...)
	vals = append(vals, y...)
	sortFloats(vals)
	uniq := vals[:0]
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			uniq = append(uniq, v)
		}
	}
	index := func(v float64) int {
		lo, hi := 0, len(uniq)
		for lo < hi {
			m := (lo + hi) / 2
			if uniq[m] < v {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return lo
	}
	a := make([]int64, len(uniq))
	b := make([]int64, len(uniq))
	for _, v := range x {
		a[index(v)]++
	}
	for _, v := range y {
		b[index(v)]++
	}
	return MannWhitneyBinned(a, b)
}

func sortFloats(v []float64) { sort.Float64s(v) }

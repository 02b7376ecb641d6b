package gate

import (
	"math"
	"testing"

	"github.com/tandemhq/tandem/internal/slo"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTwoProportionZ(t *testing.T) {
	cases := []struct {
		name           string
		x1, n1, x2, n2 float64
		z, p           float64
	}{
		// p1 = 0.001, p2 = 0.05, pooled p = 51/2000 = 0.0255,
		// se = sqrt(0.0255 * 0.9745 * (1/1000 + 1/1000)) = 0.0070498,
		// z = 0.049 / 0.0070498 = 6.9506, p = 1 - Φ(6.95) ≈ 1.8e-12.
		{"0.1% to 5%", 1, 1000, 50, 1000, 6.950564, 1.8191e-12},
		// p1 = 0.001, p2 = 0.002, pooled 3/2000 = 0.0015,
		// se = sqrt(0.0015 * 0.9985 * 0.002) = 0.0017308, z = 0.5778, p = 0.2817.
		{"0.1% to 0.2%", 1, 1000, 2, 1000, 0.577784, 0.281705},
		// No failures anywhere: no evidence.
		{"all good", 0, 1000, 0, 1000, 0, 1},
		// Empty sample: no evidence.
		{"no traffic after", 1, 1000, 0, 0, 0, 1},
		// A drop is a negative z and a p above one half.
		{"improvement", 50, 1000, 1, 1000, -6.950564, 1},
	}
	for _, c := range cases {
		r := TwoProportionZ(c.x1, c.n1, c.x2, c.n2)
		if !near(r.Z, c.z, 1e-5) || !near(r.P, c.p, 1e-5+c.p*1e-4) {
			t.Errorf("%s: z = %.6f p = %.6g, want %.6f %.6g", c.name, r.Z, r.P, c.z, c.p)
		}
	}
}

func TestMannWhitney(t *testing.T) {
	cases := []struct {
		name string
		x, y []float64
		u, z float64
		p    float64
	}{
		// Every y above every x: U = 3·3 = 9, mean 4.5, variance
		// 3·3/12·(6+1) = 5.25, z = (9 - 4.5 - 0.5)/sqrt(5.25) = 1.7457,
		// p = 0.0404.
		{"separated", []float64{1, 2, 3}, []float64{4, 5, 6}, 9, 1.745743, 0.040428},
		// Ties: x = 1,2,2 and y = 2,3,3. Mid-ranks 1 | 3,3,3 | 5.5,5.5:
		// R_y = 3 + 5.5 + 5.5 = 14, U = 14 - 3·4/2 = 8 (pairs: 2 + 3 + 3).
		// Tie term Σ(t³-t) = 24 + 6 = 30, variance = 9/12·(7 - 30/30) = 4.5,
		// z = (8 - 4.5 - 0.5)/sqrt(4.5) = 1.4142, p = 0.0786.
		{"ties", []float64{1, 2, 2}, []float64{2, 3, 3}, 8, 1.414214, 0.078650},
		// Identical samples: U is the mean, no evidence.
		{"same", []float64{1, 2, 3}, []float64{1, 2, 3}, 4.5, 0, 0.5},
	}
	for _, c := range cases {
		r := MannWhitney(c.x, c.y)
		if r.U != c.u || !near(r.Z, c.z, 1e-5) || !near(r.P, c.p, 1e-5) {
			t.Errorf("%s: U = %g z = %.6f p = %.6f, want %g %.6f %.6f", c.name, r.U, r.Z, r.P, c.u, c.z, c.p)
		}
	}
	// The binned form of the tie case is the same test: bins 1, 2, 3.
	r := MannWhitneyBinned([]int64{1, 2, 0}, []int64{0, 1, 2})
	if r.U != 8 || !near(r.P, 0.078650, 1e-5) {
		t.Errorf("binned: U = %g p = %f", r.U, r.P)
	}
	if r := MannWhitneyBinned(nil, []int64{1}); r.P != 1 {
		t.Errorf("empty sample: p = %f, want 1", r.P)
	}
}

func TestCompareWindows(t *testing.T) {
	hist := func(fast, slow int64) *slo.Latency { // fast at 95 ms, slow at 900 ms
		l := slo.NewLatency()
		if err := l.AddN(95, fast); err != nil {
			t.Fatal(err)
		}
		if err := l.AddN(900, slow); err != nil {
			t.Fatal(err)
		}
		return l
	}
	base := WindowData{Good: 99900, Total: 100000, Latency: hist(99000, 1000), HasLatency: true}
	cases := []struct {
		name    string
		after   WindowData
		verdict string
		failing []string
	}{
		// 0.1 % to 5 %: z ≈ 69.5 and +4.9 points > 0.5; burn 0.05/0.001 = 50 > 10.
		{"error ratio 0.1% to 5%", WindowData{Good: 23750, Total: 25000, Latency: hist(24750, 250), HasLatency: true}, Fail,
			[]string{"error_ratio api", "burn_rate api"}},
		{"same ratio passes", WindowData{Good: 24975, Total: 25000, Latency: hist(24750, 250), HasLatency: true}, Pass, nil},
		// p95 from 95 ms to 900 ms: 40 % slow.
		{"latency regression", WindowData{Good: 24975, Total: 25000, Latency: hist(15000, 10000), HasLatency: true}, Fail,
			[]string{"p95_latency_ms api"}},
		{"too little traffic", WindowData{Good: 40, Total: 50, Latency: hist(50, 0), HasLatency: true}, Inconclusive, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checks := CompareWindows([]SLIWindows{{SLO: "api", Objective: 0.999, Before: base, After: c.after}}, VerifyOptions{})
			if v := Combine(checks); v != c.verdict {
				t.Errorf("verdict %s, want %s: %+v", v, c.verdict, checks)
			}
			var failing []string
			for _, ch := range checks {
				if ch.Verdict == Fail {
					failing = append(failing, ch.Name)
				}
			}
			if len(failing) != len(c.failing) {
				t.Fatalf("failing %v, want %v", failing, c.failing)
			}
			for i := range failing {
				if failing[i] != c.failing[i] {
					t.Errorf("failing %v, want %v", failing, c.failing)
				}
			}
		})
	}
}

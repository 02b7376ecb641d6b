package gate

import (
	"encoding/json"
	"testing"

	"github.com/tandemhq/tandem"
)

// FuzzResultJSON: any body POST /api/v1/gates may receive either normalizes
// into a valid result or is an invalid-input error; never a panic.
func FuzzResultJSON(f *testing.F) {
	for _, s := range []string{`{"kind":"slo","verdict":"pass"}`, `{"kind":"migration","verdict":"fail","checks":[{"name":"x","verdict":"fail","value":1e308}]}`,
		`{"kind":"verify","verdict":"inconclusive","duration_ms":-1}`, `{"kind":"x"}`, `{}`, `{"checks":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Result
		if json.Unmarshal(b, &r) != nil {
			return
		}
		err := r.Normalize()
		if err != nil {
			if tandem.ErrorCode(err) != tandem.EInvalid {
				t.Fatalf("error %v is not invalid", err)
			}
			return
		}
		if Combine(r.Checks) == "" || r.Checks == nil {
			t.Fatalf("normalized result %+v", r)
		}
	})
}

// FuzzStats: the tests never return NaN or a p-value outside [0, 1].
func FuzzStats(f *testing.F) {
	f.Add(1.0, 1000.0, 50.0, 1000.0, int64(3), int64(5))
	f.Fuzz(func(t *testing.T, x1, n1, x2, n2 float64, a, b int64) {
		r := TwoProportionZ(x1, n1, x2, n2)
		if x1 >= 0 && x2 >= 0 && x1 <= n1 && x2 <= n2 && (r.P != r.P || r.P < 0 || r.P > 1) {
			t.Fatalf("p = %v for %v/%v vs %v/%v", r.P, x1, n1, x2, n2)
		}
		m := MannWhitneyBinned([]int64{a, b, a}, []int64{b, a, 0})
		if m.P != m.P || m.P < 0 || m.P > 1 {
			t.Fatalf("Mann-Whitney p = %v", m.P)
		}
	})
}

package chart

import (
	"encoding/xml"
	"flag"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func pts(start time.Time, step time.Duration, vs ...float64) []Point {
	out := make([]Point, len(vs))
	for i, v := range vs {
		out[i] = Point{T: start.Add(time.Duration(i) * step), V: v}
	}
	return out
}

func values(ps []Point) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = p.V
	}
	return out
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestDownsample(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []Point
		from time.Time
		to   time.Time
		px   int
		want []float64
	}{
		{
			// 4 points fit in 2*2 slots: returned as they are.
			name: "few points unchanged",
			in:   pts(t0, time.Minute, 1, 2, 3, 4),
			from: t0, to: t0.Add(4 * time.Minute), px: 2,
			want: []float64{1, 2, 3, 4},
		},
		{
			// 12 points over 12 minutes in 2 columns of 6 minutes each.
			// Column 0 holds 5 9 1 5 5 5: min 1 (3rd) after max 9 (2nd) -> 9, 1.
			// Column 1 holds 5 5 0 5 7 5: min 0 (3rd) before max 7 (5th) -> 0, 7.
			name: "min and max per column in time order",
			in:   pts(t0, time.Minute, 5, 9, 1, 5, 5, 5, 5, 5, 0, 5, 7, 5),
			from: t0, to: t0.Add(12 * time.Minute), px: 2,
			want: []float64{9, 1, 0, 7},
		},
		{
			// A single one-minute dip among 40320 minutes (28 days) on 800
			// columns: each column spans 50.4 minutes; the dip survives.
			name: "a short dip survives",
			in: func() []Point {
				p := make([]Point, 40320)
				for i := range p {
					p[i] = Point{T: t0.Add(time.Duration(i) * time.Minute), V: 1}
				}
				p[20000].V = 0.5
				return p
			}(),
			from: t0, to: t0.Add(40320 * time.Minute), px: 800,
			want: nil, // checked below
		},
		{
			// Column 0 (minutes 0-2) is all gap -> one NaN; column 1 has 1 2 3.
			name: "gaps stay gaps",
			in:   pts(t0, time.Minute, nan, nan, nan, 1, 2, 3),
			from: t0, to: t0.Add(6 * time.Minute), px: 2,
			want: []float64{nan, 1, 3},
		},
		{
			// Points before from and after to are dropped; to itself is kept.
			name: "clipped to the range",
			in:   pts(t0, time.Minute, 1, 2, 3, 4, 5),
			from: t0.Add(time.Minute), to: t0.Add(3 * time.Minute), px: 10,
			want: []float64{2, 3, 4},
		},
		{
			name: "no columns",
			in:   pts(t0, time.Minute, 1, 2),
			from: t0, to: t0.Add(time.Minute), px: 0,
			want: []float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Downsample(tt.in, tt.from, tt.to, tt.px)
			if tt.name == "a short dip survives" {
				if len(got) > 1600 {
					t.Fatalf("got %d points, want at most 1600", len(got))
				}
				min := 1.0
				for _, p := range got {
					min = math.Min(min, p.V)
				}
				if min != 0.5 {
					t.Fatalf("minimum after downsampling = %v, want the dip 0.5", min)
				}
				return
			}
			if !sameFloats(values(got), tt.want) {
				t.Fatalf("got %v, want %v", values(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].T.Before(got[i-1].T) {
					t.Fatalf("points out of time order at %d", i)
				}
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		f    Format
		v    float64
		want string
	}{
		{Percent, 0.9995, "99.950%"}, // 99.95 is within 0.1 of 100: 3 decimals
		{Percent, 0.995, "99.50%"},   // 99.5: 2 decimals
		{Percent, 0.42, "42.0%"},     // 1 decimal
		{Number, 12, "12"},           // whole numbers get none
		{Format{Percent: true, Decimals: 1}, 0.42, "42.0%"},
		{Format{Suffix: "×", Decimals: -1}, 14.4, "14.4×"},
		{Number, 0.0123, "0.012"},
		{Number, 250, "250"},
		{Number, math.NaN(), "–"},
	}
	for _, tt := range tests {
		if got := tt.f.Text(tt.v); got != tt.want {
			t.Errorf("%+v.Text(%v) = %q, want %q", tt.f, tt.v, got, tt.want)
		}
	}
}

func TestNiceStepAndRange(t *testing.T) {
	// span 0.004 over 4 intervals: raw 0.001 -> step 0.001.
	if got := niceStep(0.004, 4); math.Abs(got-0.001) > 1e-12 {
		t.Errorf("niceStep(0.004, 4) = %v, want 0.001", got)
	}
	// span 7 over 4: raw 1.75 -> 2.
	if got := niceStep(7, 4); got != 2 {
		t.Errorf("niceStep(7, 4) = %v, want 2", got)
	}
	// 0.9962..0.9999, percent: step niceStep(0.0037,4)=0.001; floor 0.996, ceil 1.0.
	lo, hi, step := yRange(0.9962, 0.9999, true)
	if math.Abs(lo-0.996) > 1e-9 || math.Abs(hi-1) > 1e-9 || math.Abs(step-0.001) > 1e-12 {
		t.Errorf("yRange = %v %v %v, want 0.996 1 0.001", lo, hi, step)
	}
}

func TestBudgetLevel(t *testing.T) {
	tests := []struct {
		r    float64
		want Level
	}{
		{1, LevelOK}, {0.5, LevelOK}, {0.4999, LevelLow}, {0.10, LevelLow},
		{0.0999, LevelCritical}, {0.0001, LevelCritical}, {0, LevelExhausted},
		{-0.3, LevelExhausted}, {math.NaN(), LevelNoData},
	}
	for _, tt := range tests {
		if got := BudgetLevel(tt.r); got != tt.want {
			t.Errorf("BudgetLevel(%v) = %s, want %s", tt.r, got, tt.want)
		}
	}
}

func TestMeterPrintsNumberAndWord(t *testing.T) {
	tests := []struct {
		r      float64
		noData bool
		want   []string
	}{
		{0.42, false, []string{"42.0%", "below 50%", "g-low"}},
		{0.05, false, []string{"5.0%", "below 10%", "g-critical"}},
		{-0.2, false, []string{"-20.0%", "exhausted"}},
		{0.9, true, []string{"no data", "g-none"}},
	}
	for _, tt := range tests {
		got := string(Meter(tt.r, tt.noData))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("Meter(%v, %v) = %s, missing %q", tt.r, tt.noData, got, w)
			}
		}
		wellFormed(t, template.HTML(got))
	}
}

// wellFormed parses markup as XML, which inline SVG must be.
func wellFormed(t *testing.T, h template.HTML) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(h)))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, h)
		}
	}
}

func sampleChart() TimeSeries {
	var p []Point
	for i := 0; i <= 48; i++ {
		v := 0.9995
		if i >= 20 && i < 23 {
			v = 0.97
		}
		if i == 30 {
			v = math.NaN()
		}
		p = append(p, Point{T: t0.Add(time.Duration(i) * 30 * time.Minute), V: v})
	}
	return TimeSeries{
		Title: "checkout availability", Width: 640, Height: 200,
		From: t0, To: t0.Add(24 * time.Hour),
		Series: []Series{{Name: "availability", Points: p, Area: true}},
		Markers: []Marker{
			{T: t0.Add(10 * time.Hour), Kind: "deploy", Text: "deploy checkout v1.4.2 <ok>", Href: "/changes/7"},
			{T: t0.Add(10*time.Hour + time.Minute), Kind: "config", Text: "config checkout"},
			{T: t0.Add(11*time.Hour + 30*time.Minute), Kind: "rollback", Text: "rollback checkout v1.4.1", Failed: true},
		},
		Rules:  []Rule{{V: 0.999, Label: "objective 99.9%"}},
		Format: Percent,
	}
}

func TestTimeSeriesGolden(t *testing.T) {
	got := sampleChart().SVG()
	wellFormed(t, got)
	s := string(got)
	for _, want := range []string{
		`aria-label="checkout availability"`,
		`deploy checkout v1.4.2 &lt;ok&gt;`, // outside text is escaped
		`href="/changes/7"`,
		`class="mk mk-deploy"`, // the deploy outranks the config change it merged with
		`class="mk mk-rollback failed"`,
		`>2</text>`, // two merged changes show a count
		`objective 99.9%`,
		`data-hover=`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
	golden(t, "timeseries.svg", s)
}

func TestTimeSeriesEmpty(t *testing.T) {
	c := TimeSeries{Title: "x", From: t0, To: t0.Add(time.Hour), Format: Percent}
	got := c.SVG()
	wellFormed(t, got)
	if !strings.Contains(string(got), "No data in this time range") {
		t.Fatalf("empty chart does not say so: %s", got)
	}
}

func TestBarsGolden(t *testing.T) {
	c := Bars{Title: "deploys per week", Format: Number, Bars: []Bar{
		{Label: "Nov 2", V: 12, Class: "tier-elite"}, {Label: "Nov 9", V: math.NaN()}, {Label: "Nov 16", V: 0},
	}}
	got := c.SVG()
	wellFormed(t, got)
	if !strings.Contains(string(got), ">12</text>") || !strings.Contains(string(got), "Nov 9: –") {
		t.Errorf("bars lack printed values: %s", got)
	}
	golden(t, "bars.svg", string(got))
	wellFormed(t, Arc(0.07, false, "checkout availability", 0.2))
	wellFormed(t, Defs())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff", name)
	}
}

// BenchmarkServiceChart28DaysPerMinute renders an SLI chart with 28 days of
// per-minute points (40,320) and 40 change markers, downsampled to the plot
// width. Target: under 50 ms.
func BenchmarkServiceChart28DaysPerMinute(b *testing.B) {
	const n = 28 * 24 * 60
	p := make([]Point, n)
	for i := range p {
		v := 0.9993 + 0.0005*math.Sin(float64(i)/300)
		if i%5000 < 12 {
			v = 0.98
		}
		p[i] = Point{T: t0.Add(time.Duration(i) * time.Minute), V: v}
	}
	var ms []Marker
	for i := 0; i < 40; i++ {
		ms = append(ms, Marker{T: t0.Add(time.Duration(i) * 16 * time.Hour), Kind: "deploy", Text: "deploy", Href: "/changes/1"})
	}
	c := TimeSeries{Title: "sli", Width: 960, Height: 240, From: t0, To: t0.Add(n * time.Minute),
		Series: []Series{{Name: "availability", Points: p, Area: true}}, Markers: ms,
		Rules: []Rule{{V: 0.999, Label: "objective"}}, Format: Percent}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = len(c.SVG())
	}
	b.ReportMetric(float64(size), "bytes")
}

func TestNoNegativeZero(t *testing.T) {
	// -0.25 + 0.25 in floating point can be a tiny negative number.
	if got := (Format{Percent: true, Decimals: 0}).Text(-0.25 + 0.25 - 1e-17); got != "0%" {
		t.Errorf("got %q, want 0%%", got)
	}
}

// Package chart draws the dashboard's charts as inline SVG, in Go: time
// series with change markers, bar charts for weekly trends, and error-budget
// gauges. The output is plain SVG markup meant to be placed inside an HTML
// page; it uses CSS classes (never inline styles, so a strict
// Content-Security-Policy holds) that the dashboard's stylesheet colours for
// light and dark themes, and the patterns declared by Defs.
//
// Every picture carries its meaning in text as well: markers have a letter
// and a <title>, gauges print their number and a word beside the bar, bars
// print their value. Colour is never the only signal.
//
// Charts are values: build one, call SVG. Nothing here reads the clock.
package chart

import (
	"bytes"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Format says how a value is printed on an axis, in hover text and beside a
// gauge.
type Format struct {
	// Percent prints a ratio as a percentage (0.9995 -> "99.95%").
	Percent bool
	// Suffix follows the number ("×", " h", "/day").
	Suffix string
	// Decimals fixes the number of decimals; a negative value chooses them
	// from the magnitude of the axis step.
	Decimals int
}

// Percent is the format for ratios shown as percentages.
var Percent = Format{Percent: true, Decimals: -1}

// Number is the format for plain numbers.
var Number = Format{Decimals: -1}

// Text prints v with the format's decimals (two significant decimals when
// they are chosen automatically). NaN prints as "–".
func (f Format) Text(v float64) string {
	return f.text(v, f.Decimals)
}

func (f Format) text(v float64, dec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if f.Percent {
		v *= 100
	}
	if math.Abs(v) < 1e-9 {
		v = 0 // no "-0%" from axis arithmetic
	}
	if dec < 0 {
		dec = autoDecimals(v, f.Percent)
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if f.Percent {
		s += "%"
	}
	return s + f.Suffix
}

// autoDecimals picks enough decimals to show v with about three
// significant digits, and at most four decimals. Whole numbers get none.
// Percentages close to 100 keep the decimals that matter for nines
// (99.95%, 99.991%).
func autoDecimals(v float64, percent bool) int {
	a := math.Abs(v)
	if percent {
		switch {
		case a >= 99.9 && a < 100:
			return 3
		case a >= 99 && a < 100:
			return 2
		case a >= 1:
			return 1
		}
	}
	if a == math.Trunc(a) {
		return 0
	}
	switch {
	case a >= 100:
		return 0
	case a >= 10:
		return 1
	case a >= 1:
		return 2
	}
	d := int(math.Ceil(-math.Log10(a))) + 1
	if d > 4 {
		d = 4
	}
	return d
}

// stepDecimals is the number of decimals that distinguishes axis ticks step
// apart (in display units).
func stepDecimals(step float64) int {
	if step <= 0 || math.IsNaN(step) {
		return 0
	}
	d := int(math.Ceil(-math.Log10(step) - 1e-9))
	if d < 0 {
		return 0
	}
	if d > 6 {
		return 6
	}
	return d
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that divides
// span into at most n intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// svgWriter builds SVG text. Numbers are written with one decimal: the
// drawing is in CSS pixels and a tenth is below what anyone can see.
type svgWriter struct {
	bytes.Buffer
	num [32]byte
}

func (w *svgWriter) f(v float64) {
	w.Write(strconv.AppendFloat(w.num[:0], math.Round(v*10)/10, 'f', -1, 64))
}

func (w *svgWriter) i(v int) { w.Write(strconv.AppendInt(w.num[:0], int64(v), 10)) }

// text writes s escaped for XML/HTML text and attribute values.
func (w *svgWriter) text(s string) { template.HTMLEscape(w, []byte(s)) }

func (w *svgWriter) s(s string) { w.WriteString(s) }

// html returns the built markup as safe HTML: every piece of outside text
// went through text().
func (w *svgWriter) html() template.HTML { return template.HTML(w.String()) }

// Defs returns a hidden SVG declaring the fill patterns the charts refer to
// (hatching for "warning", cross-hatching for "critical"). Put it once in
// every page that shows charts.
func Defs() template.HTML {
	return template.HTML(`<svg class="chart-defs" width="0" height="0" aria-hidden="true" focusable="false">` +
		`<defs><pattern id="pat-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
		`<rect class="pat-bg" width="6" height="6"/><line class="pat-line" x1="0" y1="0" x2="0" y2="6" stroke-width="2.5"/></pattern>` +
		`<pattern id="pat-cross" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
		`<rect class="pat-bg" width="6" height="6"/><line class="pat-line" x1="0" y1="0" x2="0" y2="6" stroke-width="2"/>` +
		`<line class="pat-line" x1="0" y1="0" x2="6" y2="0" stroke-width="2"/></pattern></defs></svg>`)
}

// xTicks returns tick times for a time axis of px pixels: about one every
// 110 px, on round boundaries (hours, days, weeks) in UTC, and the layout
// to print them with.
func xTicks(from, to time.Time, px int) ([]time.Time, string) {
	span := to.Sub(from)
	n := px / 110
	if n < 2 {
		n = 2
	}
	steps := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour,
		7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour, 91 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	layout := "15:04"
	if step >= 24*time.Hour {
		layout = "Jan 2"
	} else if span > 24*time.Hour {
		layout = "Jan 2 15:04"
	}
	var out []time.Time
	t := from.UTC().Truncate(step)
	if step >= 7*24*time.Hour {
		// Weeks start on Monday.
		d := from.UTC().Truncate(24 * time.Hour)
		for d.Weekday() != time.Monday {
			d = d.Add(24 * time.Hour)
		}
		t = d
	}
	for ; !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out, layout
}

// yRange returns the axis bounds and tick step covering lo..hi with some
// headroom, snapped to nice numbers (in data units).
func yRange(lo, hi float64, percent bool) (float64, float64, float64) {
	if math.IsInf(lo, 1) || math.IsNaN(lo) {
		return 0, 1, 0.25
	}
	if hi-lo < 1e-9 {
		pad := math.Abs(hi) * 0.01
		if pad == 0 {
			pad = 1
			if percent {
				pad = 0.01
			}
		}
		lo, hi = lo-pad, hi+pad
	}
	step := niceStep(hi-lo, 4)
	a := math.Floor(lo/step) * step
	b := math.Ceil(hi/step) * step
	if percent {
		// A ratio axis never goes past 100% or below 0.
		if b > 1 {
			b = 1
		}
		if a < 0 {
			a = 0
		}
	}
	if b-a < step {
		b = a + step
	}
	return a, b, step
}

// cssClass keeps only characters safe in a class name.
func cssClass(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return -1
	}, s)
}

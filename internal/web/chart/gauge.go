package chart

import (
	"html/template"
	"math"
)

// Level classifies how much error budget is left.
type Level string

// The budget levels, from good to bad. NoData is for an SLO without data.
const (
	LevelOK        Level = "ok"        // 50% or more left
	LevelLow       Level = "low"       // under 50%: yellow
	LevelCritical  Level = "critical"  // under 10%: red
	LevelExhausted Level = "exhausted" // nothing left (or overspent)
	LevelNoData    Level = "none"
)

// BudgetLevel returns the level for a remaining error-budget ratio
// (1 = untouched, 0 = spent, negative = overspent): yellow under 50%, red
// under 10%.
func BudgetLevel(remaining float64) Level {
	switch {
	case math.IsNaN(remaining):
		return LevelNoData
	case remaining <= 0:
		return LevelExhausted
	case remaining < 0.10:
		return LevelCritical
	case remaining < 0.50:
		return LevelLow
	}
	return LevelOK
}

// Word is the level in words, shown beside every gauge so the level reads
// without colour.
func (l Level) Word() string {
	switch l {
	case LevelOK:
		return "ok"
	case LevelLow:
		return "below 50%"
	case LevelCritical:
		return "below 10%"
	case LevelExhausted:
		return "exhausted"
	}
	return "no data"
}

// fillOf is the class (and so the colour and pattern) of a level's bar.
func fillOf(l Level) string { return "g-" + string(l) }

// Meter renders a compact horizontal error-budget gauge with its number and
// level word beside it, for tables: "▮▮▮▯ 42.0% below 50%". noData shows an
// empty gauge and "no data" instead of a number.
func Meter(remaining float64, noData bool) template.HTML {
	if noData {
		remaining = math.NaN()
	}
	l := BudgetLevel(remaining)
	frac := remaining
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	var w svgWriter
	w.s(`<span class="meter `)
	w.s(fillOf(l))
	w.s(`"><svg viewBox="0 0 80 12" width="80" height="12" aria-hidden="true"><rect class="g-track" x="0.5" y="0.5" width="79" height="11" rx="2"/>`)
	if frac > 0 {
		w.s(`<rect class="g-fill" x="0.5" y="0.5" width="`)
		w.f(math.Max(1, 79*frac))
		w.s(`" height="11" rx="2"/>`)
	}
	w.s(`</svg> <b class="g-num">`)
	if math.IsNaN(remaining) {
		w.s("–")
	} else {
		w.text(Percent.text(remaining, 1))
	}
	w.s(`</b> <span class="g-word">`)
	w.s(l.Word())
	w.s(`</span></span>`)
	return w.html()
}

// Sentence is the level as a caption that reads as a sentence, with the
// remaining ratio: "62.3% of the budget left", "budget exhausted",
// "budget overspent by 97%".
func Sentence(remaining float64) string {
	switch l := BudgetLevel(remaining); {
	case l == LevelNoData:
		return "no data: budget unknown"
	case remaining < 0:
		return "budget overspent by " + Percent.text(-remaining, 1)
	case l == LevelExhausted:
		return "budget exhausted"
	case l == LevelOK:
		return Percent.text(remaining, 1) + " of the budget left"
	default:
		return Percent.text(remaining, 1) + " of the budget left, " + l.Word()
	}
}

// Arc renders a larger half-circle error-budget gauge for a service page,
// with the remaining percentage inside the arc and a sentence below it.
// Ticks mark the warning (50%) and critical (10%) levels and, when
// freezeBelow is above zero, the level under which releases freeze. An
// overspent budget fills the arc backwards in the critical colour, as far
// as it is overspent (a whole budget or more fills it), so −1% and −97%
// look different. label names the SLO for screen readers.
func Arc(remaining float64, noData bool, label string, freezeBelow float64) template.HTML {
	if noData {
		remaining = math.NaN()
	}
	l := BudgetLevel(remaining)
	frac := remaining
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	const cx, cy, r = 80.0, 78.0, 62.0
	// at is the point of the arc (radius rr) for a budget fraction f: the
	// arc runs from the left end (f = 0) clockwise over the top to f = 1.
	at := func(f, rr float64) (float64, float64) {
		a := math.Pi * (1 - f)
		return cx + rr*math.Cos(a), cy - rr*math.Sin(a)
	}
	var w svgWriter
	w.s(`<figure class="arc `)
	w.s(fillOf(l))
	w.s(`"><svg viewBox="0 0 160 96" width="160" height="96" role="img" aria-label="`)
	num := "no data"
	if !math.IsNaN(remaining) {
		num = Percent.text(remaining, 1)
	}
	w.text(label + ": " + Sentence(remaining))
	w.s(`"><path class="g-track" d="M`)
	w.f(cx - r)
	w.s(" ")
	w.f(cy)
	w.s("A62 62 0 0 1 ")
	w.f(cx + r)
	w.s(" ")
	w.f(cy)
	w.s(`"/>`)
	if frac > 0 {
		x, y := at(frac, r)
		w.s(`<path class="g-fill" d="M`)
		w.f(cx - r)
		w.s(" ")
		w.f(cy)
		w.s("A62 62 0 0 1 ")
		w.f(x)
		w.s(" ")
		w.f(y)
		w.s(`"/>`)
	}
	if remaining < 0 {
		// Overspent: from the left end backwards is not drawable on a half
		// circle, so the debt fills from the right end towards the left.
		debt := math.Min(1, -remaining)
		x, y := at(1-debt, r)
		w.s(`<path class="g-debt" d="M`)
		w.f(cx + r)
		w.s(" ")
		w.f(cy)
		w.s("A62 62 0 0 0 ")
		w.f(x)
		w.s(" ")
		w.f(y)
		w.s(`"/>`)
	}
	tick := func(f float64, cls, title string) {
		x1, y1 := at(f, r-10)
		x2, y2 := at(f, r+10)
		w.s(`<line class="`)
		w.s(cls)
		w.s(`" x1="`)
		w.f(x1)
		w.s(`" y1="`)
		w.f(y1)
		w.s(`" x2="`)
		w.f(x2)
		w.s(`" y2="`)
		w.f(y2)
		w.s(`"><title>`)
		w.text(title)
		w.s(`</title></line>`)
	}
	tick(0.5, "g-tick", "warning below 50%")
	tick(0.1, "g-tick", "critical below 10%")
	if freezeBelow > 0 && freezeBelow < 1 {
		tick(freezeBelow, "g-tick g-freeze", "releases freeze below "+Percent.text(freezeBelow, 1))
	}
	w.s(`<text class="g-big" x="80" y="74" text-anchor="middle">`)
	w.text(num)
	w.s(`</text></svg><figcaption class="g-sub">`)
	w.text(Sentence(remaining))
	if freezeBelow > 0 && freezeBelow < 1 {
		w.s(`<br/>releases freeze below `)
		w.text(Percent.text(freezeBelow, 0))
	}
	w.s(`</figcaption></figure>`)
	return w.html()
}

// Progress renders a neutral progress bar (an OKR score, a goal's
// progress) with the percentage printed beside it. v is a ratio, clamped to
// 0..1 for the bar.
func Progress(v float64) template.HTML {
	frac := v
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	var w svgWriter
	w.s(`<span class="meter progress"><svg viewBox="0 0 80 12" width="80" height="12" aria-hidden="true"><rect class="g-track" x="0.5" y="0.5" width="79" height="11" rx="2"/>`)
	if frac > 0 {
		w.s(`<rect class="p-fill" x="0.5" y="0.5" width="`)
		w.f(math.Max(1, 79*frac))
		w.s(`" height="11" rx="2"/>`)
	}
	w.s(`</svg> <b class="g-num">`)
	w.text(Format{Percent: true, Decimals: 0}.Text(v))
	w.s(`</b></span>`)
	return w.html()
}

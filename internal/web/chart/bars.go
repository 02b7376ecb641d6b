package chart

import (
	"html/template"
	"math"
)

// Bar is one bar of a bar chart.
type Bar struct {
	Label string  // under the bar ("Nov 3")
	V     float64 // NaN: no data (drawn as an empty slot marked "–")
	// Title is what hovering shows; the default is label and value.
	Title string
	// Class adds a class to the bar (e.g. a DORA tier: "tier-elite").
	Class string
	// Href, when set, makes the bar a link (to what it counts).
	Href string
}

// Bars is a bar chart, e.g. one DORA metric per week. Each bar prints its
// value above it.
type Bars struct {
	Title         string
	Width, Height int // defaults 360×140
	Bars          []Bar
	Format        Format
	Rules         []Rule
	// Axis draws a value axis on the left: the baseline and the top, in
	// the format's unit.
	Axis bool
}

// SVG renders the chart.
func (c Bars) SVG() template.HTML {
	W, H := c.Width, c.Height
	if W <= 0 {
		W = 360
	}
	if H <= 0 {
		H = 140
	}
	const top, bottom, right = 16, 20, 6
	left := 6
	if c.Axis {
		left = 44
	}
	ph := float64(H - top - bottom)
	hi := 0.0
	for _, b := range c.Bars {
		if !math.IsNaN(b.V) {
			hi = math.Max(hi, b.V)
		}
	}
	for _, r := range c.Rules {
		hi = math.Max(hi, r.V)
	}
	if hi <= 0 {
		hi = 1
	}
	hi *= 1.08
	n := len(c.Bars)
	var w svgWriter
	w.s(`<svg class="chart bars" viewBox="0 0 `)
	w.i(W)
	w.s(" ")
	w.i(H)
	w.s(`" role="group" aria-label="`)
	w.text(c.Title)
	w.s(`">`)
	if n == 0 {
		w.s(`<text class="empty" x="`)
		w.i(W / 2)
		w.s(`" y="`)
		w.i(H / 2)
		w.s(`" text-anchor="middle">No data in this time range</text></svg>`)
		return w.html()
	}
	slot := float64(W-left-right) / float64(n)
	bw := math.Max(2, slot*0.7)
	base := float64(top) + ph
	for i, b := range c.Bars {
		x := float64(left) + slot*float64(i) + (slot-bw)/2
		cx := x + bw/2
		title := b.Title
		if title == "" {
			title = b.Label + ": " + c.Format.Text(b.V)
		}
		w.s(`<g class="bar`)
		if b.Class != "" {
			w.s(" ")
			w.s(cssClass(b.Class))
		}
		w.s(`"><title>`)
		w.text(title)
		w.s(`</title>`)
		if b.Href != "" {
			w.s(`<a href="`)
			w.text(b.Href)
			w.s(`">`)
		}
		if math.IsNaN(b.V) {
			w.s(`<rect class="slot" x="`)
			w.f(x)
			w.s(`" y="`)
			w.f(float64(top))
			w.s(`" width="`)
			w.f(bw)
			w.s(`" height="`)
			w.f(ph)
			w.s(`"/>`)
		} else {
			h := math.Max(1, b.V/hi*ph)
			if b.V == 0 {
				h = 1
			}
			w.s(`<rect x="`)
			w.f(x)
			w.s(`" y="`)
			w.f(base - h)
			w.s(`" width="`)
			w.f(bw)
			w.s(`" height="`)
			w.f(h)
			w.s(`"/>`)
		}
		if b.Href != "" {
			w.s(`</a>`)
		}
		// The value prints above its bar when it fits the bar's slot
		// (about 6.5 px a character at 11 px); the title always has it.
		val := c.Format.Text(b.V)
		if slot >= 6.5*float64(len([]rune(val)))+4 {
			w.s(`<text class="val" x="`)
			w.f(cx)
			w.s(`" y="`)
			v := b.V
			if math.IsNaN(v) {
				v = 0
			}
			w.f(math.Max(float64(top)-2, base-math.Max(1, v/hi*ph)-3))
			w.s(`" text-anchor="middle">`)
			w.text(val)
			w.s(`</text>`)
		}
		if slot >= 40 || i%int(math.Ceil(40/slot)) == 0 {
			w.s(`<text class="lbl" x="`)
			w.f(cx)
			w.s(`" y="`)
			w.i(H - 6)
			w.s(`" text-anchor="middle">`)
			w.text(b.Label)
			w.s(`</text>`)
		}
		w.s(`</g>`)
	}
	for _, r := range c.Rules {
		y := base - r.V/hi*ph
		w.s(`<g class="rule"><line x1="`)
		w.i(left)
		w.s(`" x2="`)
		w.i(W - right)
		w.s(`" y1="`)
		w.f(y)
		w.s(`" y2="`)
		w.f(y)
		w.s(`"/><text x="`)
		w.i(W - right)
		w.s(`" y="`)
		w.f(y - 3)
		w.s(`" text-anchor="end">`)
		w.text(r.Label)
		w.s(`</text></g>`)
	}
	if c.Axis {
		// Two ticks: zero and a round value near the top.
		step := niceStep(hi/1.08, 1)
		dec := c.Format.Decimals
		if dec < 0 {
			ds := step
			if c.Format.Percent {
				ds *= 100
			}
			dec = stepDecimals(ds)
		}
		for _, v := range []float64{0, step} {
			if v > hi {
				continue
			}
			y := base - v/hi*ph
			w.s(`<line class="grid" x1="`)
			w.i(left)
			w.s(`" x2="`)
			w.i(W - right)
			w.s(`" y1="`)
			w.f(y)
			w.s(`" y2="`)
			w.f(y)
			w.s(`"/><text class="axis-label" x="`)
			w.i(left - 4)
			w.s(`" y="`)
			w.f(y + 4)
			w.s(`" text-anchor="end">`)
			w.text(c.Format.text(v, dec))
			w.s(`</text>`)
		}
	}
	w.s(`<line class="baseline" x1="`)
	w.i(left)
	w.s(`" x2="`)
	w.i(W - right)
	w.s(`" y1="`)
	w.f(base)
	w.s(`" y2="`)
	w.f(base)
	w.s(`"/></svg>`)
	return w.html()
}

package chart

import (
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Series is one line of a time series chart.
type Series struct {
	Name   string
	Points []Point // sorted by time; NaN values are gaps
	// Area fills below the line.
	Area bool
}

// Marker is a change drawn on the time axis: a vertical line and an icon
// with the change kind's letter, linking to the change.
type Marker struct {
	T    time.Time
	Kind string // deploy, rollback, config, migration, flag, chaos
	Text string // what hovering shows: "deploy checkout v1.4.2 (success)"
	Href string // where the icon links; empty for no link
	// Failed draws the marker as a failure (a cross over the icon).
	Failed bool
}

// Rule is a horizontal reference line (an objective, an alert threshold).
type Rule struct {
	V     float64
	Label string
}

// TimeSeries is a line chart over a time range, with change markers on the
// same axis. Build one and call SVG.
type TimeSeries struct {
	// Title names the chart for screen readers.
	Title string
	// Width and Height are the drawing's size in CSS pixels (defaults
	// 800×220); it scales to its container.
	Width, Height int
	From, To      time.Time
	Series        []Series
	Markers       []Marker
	Rules         []Rule
	Format        Format
	// FixedY uses YMin..YMax for the value axis instead of fitting the data.
	FixedY     bool
	YMin, YMax float64
}

// Geometry of the plot inside the drawing.
const (
	padLeft   = 58
	padRight  = 14
	padTop    = 22 // room for marker icons
	padBottom = 22 // room for time labels
)

// markerPriority orders change kinds when several share a spot: the one most
// likely to explain a dip wins the icon.
var markerPriority = map[string]int{"rollback": 6, "migration": 5, "deploy": 4, "config": 3, "flag": 2, "chaos": 1, "backup": 0}

// markerLetter is the letter drawn in a marker icon, so the kind reads
// without colour.
var markerLetter = map[string]string{"deploy": "D", "rollback": "R", "config": "C", "migration": "M", "flag": "F", "chaos": "X", "backup": "B"}

// PlotWidth returns the width in pixels of the plot area, which is what
// the series should be downsampled to.
func (c TimeSeries) PlotWidth() int {
	w, _ := c.size()
	if w-padLeft-padRight < 10 {
		return 10
	}
	return w - padLeft - padRight
}

func (c TimeSeries) size() (int, int) {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 800
	}
	if h <= 0 {
		h = 220
	}
	return w, h
}

// SVG renders the chart. Each series is downsampled to the plot's pixel
// width first (see Downsample), so the markup stays small however many
// points come in. The <svg> carries the drawn points in a data-hover
// attribute for the dashboard's script, which shows the values under the
// pointer; without the script the markers' <title>s still show on hover.
func (c TimeSeries) SVG() template.HTML {
	W, H := c.size()
	pw := c.PlotWidth()
	ph := H - padTop - padBottom
	if !c.To.After(c.From) {
		c.To = c.From.Add(time.Hour)
	}
	series := make([][]Point, len(c.Series))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range c.Series {
		series[i] = Downsample(s.Points, c.From, c.To, pw)
		for _, p := range series[i] {
			if !math.IsNaN(p.V) {
				lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
			}
		}
	}
	empty := math.IsInf(lo, 1)
	for _, r := range c.Rules {
		if !empty || c.FixedY {
			lo, hi = math.Min(lo, r.V), math.Max(hi, r.V)
		}
	}
	var ymin, ymax, step float64
	if c.FixedY {
		ymin, ymax = c.YMin, c.YMax
		step = niceStep(ymax-ymin, 4)
	} else {
		ymin, ymax, step = yRange(lo, hi, c.Format.Percent)
	}
	if ymax <= ymin {
		ymax = ymin + 1
	}
	span := float64(c.To.Sub(c.From))
	x := func(t time.Time) float64 { return padLeft + float64(t.Sub(c.From))/span*float64(pw) }
	y := func(v float64) float64 {
		v = math.Max(ymin, math.Min(ymax, v))
		return padTop + (1-(v-ymin)/(ymax-ymin))*float64(ph)
	}

	var w svgWriter
	w.Grow(4096 + 24*len(series)*pw)
	w.s(`<svg class="chart ts" viewBox="0 0 `)
	w.i(W)
	w.s(" ")
	w.i(H)
	w.s(`" role="group" aria-label="`)
	w.text(c.Title)
	w.s(`" data-zoom="`)
	w.i(padLeft)
	w.s(",")
	w.i(pw)
	w.s(",")
	w.s(strconv.FormatInt(c.From.UnixMilli(), 10))
	w.s(",")
	w.s(strconv.FormatInt(c.To.UnixMilli(), 10))
	w.s(`"`)
	if !empty {
		c.hoverData(&w, series, pw)
	}
	w.s(">")

	// Value axis: grid lines and labels.
	dispStep := step
	if c.Format.Percent {
		dispStep *= 100
	}
	dec := c.Format.Decimals
	if dec < 0 {
		dec = stepDecimals(dispStep)
	}
	w.s(`<g class="axis y">`)
	// Ticks sit on multiples of the step (a fixed axis may start between
	// them).
	for v := math.Ceil(ymin/step-1e-9) * step; v <= ymax+step/1e6; v += step {
		yy := y(v)
		w.s(`<line class="grid" x1="`)
		w.i(padLeft)
		w.s(`" x2="`)
		w.i(padLeft + pw)
		w.s(`" y1="`)
		w.f(yy)
		w.s(`" y2="`)
		w.f(yy)
		w.s(`"/><text x="`)
		w.i(padLeft - 6)
		w.s(`" y="`)
		w.f(yy + 4)
		w.s(`" text-anchor="end">`)
		w.text(c.Format.text(v, dec))
		w.s(`</text>`)
	}
	w.s(`</g>`)

	// Time axis.
	ticks, layout := xTicks(c.From, c.To, pw)
	w.s(`<g class="axis x">`)
	for _, t := range ticks {
		xx := x(t)
		w.s(`<line class="tick" x1="`)
		w.f(xx)
		w.s(`" x2="`)
		w.f(xx)
		w.s(`" y1="`)
		w.i(padTop + ph)
		w.s(`" y2="`)
		w.i(padTop + ph + 4)
		w.s(`"/><text x="`)
		w.f(xx)
		w.s(`" y="`)
		w.i(H - 6)
		w.s(`" text-anchor="middle">`)
		w.text(t.UTC().Format(layout))
		w.s(`</text>`)
	}
	w.s(`<line class="baseline" x1="`)
	w.i(padLeft)
	w.s(`" x2="`)
	w.i(padLeft + pw)
	w.s(`" y1="`)
	w.i(padTop + ph)
	w.s(`" y2="`)
	w.i(padTop + ph)
	w.s(`"/></g>`)

	if empty {
		w.s(`<text class="empty" x="`)
		w.i(padLeft + pw/2)
		w.s(`" y="`)
		w.i(padTop + ph/2)
		w.s(`" text-anchor="middle">No data in this time range</text>`)
	}

	// Reference lines. Labels sit above their line, or below it when the
	// line is so near the top that the label would run into the change
	// markers; labels that would overlap are joined into one, so every line
	// keeps its label.
	c.rules(&w, y, ymin, ymax, pw)

	// Series, each a path broken at gaps; the second and later are dashed
	// so they differ by more than colour.
	for i, pts := range series {
		if len(pts) == 0 {
			continue
		}
		cls := "s" + strconv.Itoa(i%4+1)
		if c.Series[i].Area {
			w.s(`<path class="area `)
			w.s(cls)
			w.s(`" d="`)
			writeArea(&w, pts, x, y, float64(padTop+ph))
			w.s(`"/>`)
		}
		w.s(`<path class="line `)
		w.s(cls)
		w.s(`" d="`)
		writeLine(&w, pts, x, y)
		w.s(`"><title>`)
		w.text(c.Series[i].Name)
		w.s(`</title></path>`)
	}

	c.markers(&w, x, padTop, padTop+ph, pw)

	// Legend, when there is more than one series.
	if len(c.Series) > 1 {
		lx := padLeft + 4
		for i, s := range c.Series {
			cls := "s" + strconv.Itoa(i%4+1)
			w.s(`<g class="legend"><line class="line `)
			w.s(cls)
			w.s(`" x1="`)
			w.i(lx)
			w.s(`" x2="`)
			w.i(lx + 16)
			w.s(`" y1="10" y2="10"/><text x="`)
			w.i(lx + 20)
			w.s(`" y="14">`)
			w.text(s.Name)
			w.s(`</text></g>`)
			lx += 28 + 7*len(s.Name)
		}
	}
	w.s(`</svg>`)
	return w.html()
}

// ruleLabel is the label of one or more reference lines drawn as one.
type ruleLabel struct {
	y    float64
	text string
}

// rules draws the reference lines and their labels.
func (c TimeSeries) rules(w *svgWriter, y func(float64) float64, ymin, ymax float64, pw int) {
	rules := append([]Rule(nil), c.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].V > rules[j].V })
	var labels []ruleLabel
	for _, r := range rules {
		if r.V < ymin || r.V > ymax {
			continue
		}
		yy := y(r.V)
		w.s(`<g class="rule"><title>`)
		w.text(r.Label)
		w.s(`</title><line x1="`)
		w.i(padLeft)
		w.s(`" x2="`)
		w.i(padLeft + pw)
		w.s(`" y1="`)
		w.f(yy)
		w.s(`" y2="`)
		w.f(yy)
		w.s(`"/></g>`)
		// A label's baseline sits 4 px above its line; it needs 10 px
		// above that, below the marker band.
		ly := yy - 4
		if ly-10 < padTop {
			ly = yy + 13
		}
		if n := len(labels); n > 0 && ly-labels[n-1].y < 13 {
			labels[n-1].text += " · " + r.Label
			continue
		}
		labels = append(labels, ruleLabel{y: ly, text: r.Label})
	}
	for _, l := range labels {
		w.s(`<text class="rule-label" x="`)
		w.i(padLeft + pw - 4)
		w.s(`" y="`)
		w.f(l.y)
		w.s(`" text-anchor="end">`)
		w.text(l.text)
		w.s(`</text>`)
	}
}

// writeLine writes path data for pts: "M x y x y …", restarting after each
// NaN gap (implicit line-tos keep it short).
func writeLine(w *svgWriter, pts []Point, x func(time.Time) float64, y func(float64) float64) {
	pen := false
	for _, p := range pts {
		if math.IsNaN(p.V) {
			pen = false
			continue
		}
		if !pen {
			w.s("M")
			pen = true
		} else {
			w.s(" ")
		}
		w.f(x(p.T))
		w.s(" ")
		w.f(y(p.V))
	}
}

// writeArea writes closed shapes between each gapless run of pts and the
// baseline.
func writeArea(w *svgWriter, pts []Point, x func(time.Time) float64, y func(float64) float64, base float64) {
	start := -1.0
	closeRun := func() {
		if start >= 0 {
			w.s("V")
			w.f(base)
			w.s("H")
			w.f(start)
			w.s("Z")
			start = -1
		}
	}
	for _, p := range pts {
		if math.IsNaN(p.V) {
			closeRun()
			continue
		}
		xx := x(p.T)
		if start < 0 {
			w.s("M")
			start = xx
		} else {
			w.s("L")
		}
		w.f(xx)
		w.s(" ")
		w.f(y(p.V))
	}
	closeRun()
}

// hoverData writes the data-hover attribute: the plot geometry and the drawn
// points as compact JSON ({"l":left,"w":width,"t0":ms,"t1":ms,"f":format,
// "s":[{"n":name,"t":[seconds since t0…],"v":[values…]}]}).
func (c TimeSeries) hoverData(w *svgWriter, series [][]Point, pw int) {
	var b strings.Builder
	b.Grow(32 * pw)
	b.WriteString(`{"l":`)
	b.WriteString(strconv.Itoa(padLeft))
	b.WriteString(`,"w":`)
	b.WriteString(strconv.Itoa(pw))
	b.WriteString(`,"t0":`)
	b.WriteString(strconv.FormatInt(c.From.UnixMilli(), 10))
	b.WriteString(`,"t1":`)
	b.WriteString(strconv.FormatInt(c.To.UnixMilli(), 10))
	b.WriteString(`,"p":`)
	b.WriteString(strconv.FormatBool(c.Format.Percent))
	b.WriteString(`,"x":`)
	b.WriteString(strconv.Quote(c.Format.Suffix))
	b.WriteString(`,"s":[`)
	t0 := c.From.Unix()
	var num [32]byte
	for i, pts := range series {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"n":`)
		b.WriteString(strconv.Quote(c.Series[i].Name))
		b.WriteString(`,"t":[`)
		for j, p := range pts {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(strconv.AppendInt(num[:0], p.T.Unix()-t0, 10))
		}
		b.WriteString(`],"v":[`)
		for j, p := range pts {
			if j > 0 {
				b.WriteByte(',')
			}
			if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
				b.WriteString("null")
				continue
			}
			b.Write(strconv.AppendFloat(num[:0], p.V, 'g', 7, 64))
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	w.s(` data-hover="`)
	w.text(b.String())
	w.s(`"`)
}

// markerGroup is the markers that share one spot on the axis.
type markerGroup struct {
	x       float64
	members []Marker
}

// markerGap is the least distance between two marker icons' centres: an
// icon is 16 px wide, so closer ones would overlap and are merged.
const markerGap = 19

// markers draws the change markers. Markers whose icons would overlap are
// clustered into one badge that shows how many changes it holds; its title
// (and the dashboard's script, on hover or keyboard focus) lists them.
func (c TimeSeries) markers(w *svgWriter, x func(time.Time) float64, top, bottom, pw int) {
	var ms []Marker
	for _, m := range c.Markers {
		if !m.T.Before(c.From) && !m.T.After(c.To) {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].T.Before(ms[j].T) })
	var groups []markerGroup
	for _, m := range ms {
		xx := x(m.T)
		if n := len(groups); n > 0 && xx-groups[n-1].x < markerGap {
			groups[n-1].members = append(groups[n-1].members, m)
			continue
		}
		groups = append(groups, markerGroup{x: xx, members: []Marker{m}})
	}
	w.s(`<g class="markers">`)
	for _, g := range groups {
		lead := g.members[0]
		failed := false
		for _, m := range g.members {
			if markerPriority[m.Kind] > markerPriority[lead.Kind] {
				lead = m
			}
			failed = failed || m.Failed
		}
		kind := cssClass(lead.Kind)
		w.s(`<g class="mk mk-`)
		w.s(kind)
		if failed {
			w.s(` failed`)
		}
		w.s(`">`)
		w.s(`<line x1="`)
		w.f(g.x)
		w.s(`" x2="`)
		w.f(g.x)
		w.s(`" y1="`)
		w.i(top)
		w.s(`" y2="`)
		w.i(bottom)
		w.s(`"/>`)
		if lead.Href != "" {
			w.s(`<a href="`)
			w.text(lead.Href)
			w.s(`">`)
		}
		w.s(`<title>`)
		limit := 12
		for i, m := range g.members {
			if i == limit {
				w.text("… and " + strconv.Itoa(len(g.members)-limit) + " more")
				break
			}
			if i > 0 {
				w.s("\n")
			}
			w.text(m.T.UTC().Format("Jan 2 15:04") + " " + m.Text)
		}
		w.s(`</title>`)
		// The icon: a shape per kind with its letter; a cluster is a round
		// badge with the count instead.
		cy := float64(top) - 10
		if len(g.members) > 1 {
			w.s(`<circle class="mk-icon mk-cluster" cx="`)
			w.f(g.x)
			w.s(`" cy="`)
			w.f(cy)
			w.s(`" r="8"/><text class="mk-letter" x="`)
			w.f(g.x)
			w.s(`" y="`)
			w.f(cy + 3.5)
			w.s(`" text-anchor="middle">`)
			if len(g.members) > 99 {
				w.s("99+")
			} else {
				w.i(len(g.members))
			}
			w.s(`</text>`)
		} else {
			writeMarkerShape(w, lead.Kind, g.x, cy)
			w.s(`<text class="mk-letter" x="`)
			w.f(g.x)
			w.s(`" y="`)
			w.f(cy + 3.5)
			w.s(`" text-anchor="middle">`)
			w.s(markerLetterOf(lead.Kind))
			w.s(`</text>`)
		}
		if failed {
			w.s(`<path class="mk-fail" d="M`)
			w.f(g.x - 7)
			w.s(" ")
			w.f(cy - 7)
			w.s("l14 14m0 -14l-14 14")
			w.s(`"/>`)
		}
		if lead.Href != "" {
			w.s(`</a>`)
		}
		w.s(`</g>`)
	}
	w.s(`</g>`)
}

func markerLetterOf(kind string) string {
	if l, ok := markerLetter[kind]; ok {
		return l
	}
	return "?"
}

// writeMarkerShape draws the icon outline for a change kind centred on
// (cx, cy): a triangle for deploys, an inverted triangle for rollbacks, a
// diamond for config, a square for migrations, a circle otherwise.
func writeMarkerShape(w *svgWriter, kind string, cx, cy float64) {
	w.s(`<path class="mk-icon" d="M`)
	switch kind {
	case "deploy":
		w.f(cx)
		w.s(" ")
		w.f(cy - 8)
		w.s("l8 13h-16z")
	case "rollback":
		w.f(cx)
		w.s(" ")
		w.f(cy + 7)
		w.s("l8 -13h-16z")
	case "config":
		w.f(cx)
		w.s(" ")
		w.f(cy - 8)
		w.s("l8 8l-8 8l-8 -8z")
	case "migration":
		w.f(cx - 7)
		w.s(" ")
		w.f(cy - 7)
		w.s("h14v14h-14z")
	default:
		w.f(cx - 7)
		w.s(" ")
		w.f(cy)
		w.s("a7 7 0 1 0 14 0a7 7 0 1 0 -14 0z")
	}
	w.s(`"/>`)
}

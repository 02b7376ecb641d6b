package chart

import (
	"math"
	"time"
)

// Point is one sample of a time series. A NaN value is a gap: the line
// breaks there instead of drawing through missing data.
type Point struct {
	T time.Time
	V float64
}

// Downsample reduces points (sorted by time) to at most two per pixel column
// of a plot px wide spanning [from, to]: for each column it keeps the
// minimum and the maximum sample, in the order they occurred. A short dip
// or spike therefore survives however many samples share its column, which
// is what a reader of an SLI chart is looking for. Samples outside the range
// are dropped. A column whose samples are all NaN yields one NaN point, so
// gaps stay gaps; empty columns yield nothing (the line joins across them).
//
// Series with no more than 2*px points in range are returned unchanged
// (still clipped to the range). The input is not modified.
func Downsample(points []Point, from, to time.Time, px int) []Point {
	if px < 1 || !to.After(from) {
		return nil
	}
	lo, hi := clip(points, from, to)
	in := points[lo:hi]
	if len(in) <= 2*px {
		out := make([]Point, len(in))
		copy(out, in)
		return out
	}
	span := float64(to.Sub(from))
	f0 := from.UnixNano()
	out := make([]Point, 0, 2*px)
	col := -1
	var minP, maxP Point
	var haveVal, haveNaN bool
	var minI, maxI int
	flush := func() {
		switch {
		case haveVal && minI == maxI:
			out = append(out, minP)
		case haveVal && minI < maxI:
			out = append(out, minP, maxP)
		case haveVal:
			out = append(out, maxP, minP)
		case haveNaN:
			out = append(out, Point{T: minP.T, V: math.NaN()})
		}
	}
	for i, p := range in {
		c := int(float64(p.T.UnixNano()-f0) / span * float64(px))
		if c >= px {
			c = px - 1
		}
		if c != col {
			if col >= 0 {
				flush()
			}
			col, haveVal, haveNaN = c, false, false
			minP = p
		}
		if math.IsNaN(p.V) {
			haveNaN = true
			continue
		}
		if !haveVal {
			minP, maxP, minI, maxI, haveVal = p, p, i, i, true
			continue
		}
		if p.V < minP.V {
			minP, minI = p, i
		}
		if p.V > maxP.V {
			maxP, maxI = p, i
		}
	}
	if col >= 0 {
		flush()
	}
	return out
}

// clip returns the index range of points with from <= T <= to, by binary
// search (points are sorted by time).
func clip(points []Point, from, to time.Time) (int, int) {
	return search(points, from), search(points, to.Add(time.Nanosecond))
}

// search returns the index of the first point at or after t.
func search(points []Point, t time.Time) int {
	i, j := 0, len(points)
	for i < j {
		h := int(uint(i+j) >> 1)
		if points[h].T.Before(t) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

package cards

import (
	"math"
	"strconv"
	"strings"
)

// Inline SVG charts. Every coordinate goes through num, which never writes
// NaN or Inf; every label goes through esc. No xmlns: inline SVG in HTML
// needs none, and the document then holds no URL at all.

// num formats a coordinate with one decimal.
func num(v float64) string {
	if !finite(v) {
		v = 0
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
}

// linear maps the domain [d0, d1] onto the range [r0, r1].
type linear struct{ d0, d1, r0, r1 float64 }

func (s linear) at(v float64) float64 {
	// Halves keep the arithmetic finite for domains as wide as ±MaxFloat64.
	w := s.d1/2 - s.d0/2
	if w == 0 || !finite(w) || !finite(v) {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v/2-s.d0/2)/w*(s.r1-s.r0)
}

// niceNum rounds x to 1, 2, 5 or 10 times a power of ten.
func niceNum(x float64, round bool) float64 {
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	switch {
	case round && f < 1.5, !round && f <= 1:
		nf = 1
	case round && f < 3, !round && f <= 2:
		nf = 2
	case round && f < 7, !round && f <= 5:
		nf = 5
	default:
		nf = 10
	}
	return nf * math.Pow(10, exp)
}

// niceTicks returns about n round tick values covering [lo, hi], and the
// extended range [nlo, nhi] they span.
func niceTicks(lo, hi float64, n int) (nlo, nhi float64, ticks []float64) {
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if lo == hi {
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	if !finite(hi - lo) {
		return lo, hi, []float64{lo, hi}
	}
	step := niceNum(niceNum(hi-lo, false)/float64(n-1), true)
	nlo, nhi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if !finite(nlo) || !finite(nhi) || step == 0 {
		return lo, hi, []float64{lo, hi}
	}
	for i := 0; i < 50; i++ {
		v := nlo + float64(i)*step
		if v > nhi+step/2 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, v)
	}
	return nlo, nhi, ticks
}

// padRange widens [lo, hi] by 4% on each side (or by a unit when it is a point).
func padRange(lo, hi float64) (float64, float64) {
	if !finite(lo) || !finite(hi) {
		return 0, 1
	}
	d := (hi - lo) * 0.04
	if d == 0 || !finite(d) {
		d = math.Abs(lo) * 0.1
		if d == 0 || !finite(d) {
			d = 1
		}
	}
	if l, h := lo-d, hi+d; finite(l) && finite(h) {
		return l, h
	}
	return lo, hi
}

// inside keeps the ticks within the domain of s.
func inside(ticks []float64, s linear) []float64 {
	lo, hi := min(s.d0, s.d1), max(s.d0, s.d1)
	eps := (hi - lo) * 1e-9
	var out []float64
	for _, v := range ticks {
		if v >= lo-eps && v <= hi+eps {
			out = append(out, v)
		}
	}
	return out
}

// frame geometry of a chart with axes.
type chart struct {
	w, h                      float64
	left, right, top, bottom  float64 // margins
	x, y                      linear
	xTicks, yTicks            []float64
	xLabel, yLabel, ariaLabel string
	xFormat, yFormat          func(float64) string
	xTickInside               bool // keep only x ticks inside the x domain
}

func (c *chart) plotLeft() float64   { return c.left }
func (c *chart) plotRight() float64  { return c.w - c.right }
func (c *chart) plotTop() float64    { return c.top }
func (c *chart) plotBottom() float64 { return c.h - c.bottom }

// open writes the svg element, grid, axes, ticks and labels.
func (c *chart) open(b *strings.Builder) {
	b.WriteString(`<svg class="chart" viewBox="0 0 ` + num(c.w) + " " + num(c.h) + `" width="` + num(c.w) +
		`" height="` + num(c.h) + `" role="img" aria-label="` + esc(c.ariaLabel) + `">`)
	l, r, t, bt := c.plotLeft(), c.plotRight(), c.plotTop(), c.plotBottom()
	// Grid.
	b.WriteString(`<path class="grid" d="`)
	c.xTicks, c.yTicks = inside(c.xTicks, c.x), inside(c.yTicks, c.y)
	for _, v := range c.yTicks {
		y := c.y.at(v)
		b.WriteString("M" + num(l) + " " + num(y) + "H" + num(r))
	}
	for _, v := range c.xTicks {
		x := c.x.at(v)
		b.WriteString("M" + num(x) + " " + num(t) + "V" + num(bt))
	}
	b.WriteString(`"/>`)
	// Axes.
	b.WriteString(`<path class="axis" d="M` + num(l) + " " + num(t) + "V" + num(bt) + "H" + num(r) + `"/>`)
	// Tick labels.
	for _, v := range c.yTicks {
		b.WriteString(`<text class="tk" x="` + num(l-5) + `" y="` + num(c.y.at(v)+3.5) + `" text-anchor="end">` +
			esc(c.yFormat(v)) + "</text>")
	}
	for _, v := range c.xTicks {
		b.WriteString(`<text class="tk" x="` + num(c.x.at(v)) + `" y="` + num(bt+14) + `" text-anchor="middle">` +
			esc(c.xFormat(v)) + "</text>")
	}
	if c.xLabel != "" {
		b.WriteString(`<text class="lbl" x="` + num((l+r)/2) + `" y="` + num(c.h-4) + `" text-anchor="middle">` +
			esc(c.xLabel) + "</text>")
	}
	if c.yLabel != "" {
		cy := (t + bt) / 2
		b.WriteString(`<text class="lbl" x="12" y="` + num(cy) + `" text-anchor="middle" transform="rotate(-90 12 ` +
			num(cy) + `)">` + esc(c.yLabel) + "</text>")
	}
}

func (s *scatterSection) svg(b *strings.Builder) {
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range s.x {
		xlo, xhi = min(xlo, s.x[i]), max(xhi, s.x[i])
		ylo, yhi = min(ylo, s.y[i]), max(yhi, s.y[i])
	}
	if s.identity {
		xlo, xhi = min(xlo, ylo), max(xhi, yhi)
		ylo, yhi = xlo, xhi
	}
	c := &chart{w: 520, h: 360, left: 62, right: 14, top: 12, bottom: 42,
		xLabel: s.xLabel, yLabel: s.yLabel, ariaLabel: s.title, xFormat: formatCompact, yFormat: formatCompact}
	if s.identity { // a square plot area, so that y = x is a diagonal
		c.w, c.h = 422, 400
	}
	x0, x1 := padRange(xlo, xhi)
	y0, y1 := padRange(ylo, yhi)
	_, _, c.xTicks = niceTicks(x0, x1, 6)
	_, _, c.yTicks = niceTicks(y0, y1, 6)
	c.x = linear{x0, x1, c.plotLeft(), c.plotRight()}
	c.y = linear{y0, y1, c.plotBottom(), c.plotTop()}
	c.open(b)
	if s.identity {
		b.WriteString(`<path class="ref" d="M` + num(c.x.at(x0)) + " " + num(c.y.at(x0)) +
			"L" + num(c.x.at(x1)) + " " + num(c.y.at(x1)) + `"/>`)
	}
	b.WriteString(`<g class="pts">`)
	for i := range s.x {
		b.WriteString(`<circle cx="` + num(c.x.at(s.x[i])) + `" cy="` + num(c.y.at(s.y[i])) + `" r="2.2"/>`)
	}
	b.WriteString("</g></svg>")
}

func (s *histSection) svg(b *strings.Builder) {
	maxCount := 0
	for _, n := range s.counts {
		maxCount = max(maxCount, n)
	}
	c := &chart{w: 520, h: 240, left: 52, right: 14, top: 10, bottom: 30,
		ariaLabel: s.title, xFormat: formatCompact, yFormat: formatCompact}
	lo, hi := s.lo, s.hi
	if lo == hi { // one value: one bar in the middle of a unit-wide domain
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	_, _, c.xTicks = niceTicks(lo, hi, 7)
	_, y1, yt := niceTicks(0, float64(max(maxCount, 1)), 5)
	c.yTicks = yt
	c.x = linear{lo, hi, c.plotLeft(), c.plotRight()}
	c.y = linear{0, y1, c.plotBottom(), c.plotTop()}
	c.yFormat = func(v float64) string { return formatCompact(math.Round(v)) }
	c.open(b)
	b.WriteString(`<g class="bars">`)
	n := len(s.counts)
	for i, cnt := range s.counts {
		if cnt == 0 {
			continue
		}
		var bx0, bx1 float64
		if s.lo == s.hi {
			mid := c.x.at(s.lo)
			bx0, bx1 = mid-20, mid+20
		} else {
			bx0 = c.x.at(s.lo + (s.hi-s.lo)*float64(i)/float64(n))
			bx1 = c.x.at(s.lo + (s.hi-s.lo)*float64(i+1)/float64(n))
		}
		y := c.y.at(float64(cnt))
		w := max(bx1-bx0-1, 0.5)
		b.WriteString(`<rect x="` + num(bx0+0.5) + `" y="` + num(y) + `" width="` + num(w) + `" height="` +
			num(c.plotBottom()-y) + `"><title>` + esc(binLabel(s.lo, s.hi, i, n, cnt)) + "</title></rect>")
	}
	b.WriteString("</g></svg>")
}

// binLabel is the tooltip of bin i of n over [lo, hi].
func binLabel(lo, hi float64, i, n, count int) string {
	a := lo + (hi-lo)*float64(i)/float64(n)
	z := lo + (hi-lo)*float64(i+1)/float64(n)
	closing := ")"
	if i == n-1 {
		closing = "]"
	}
	return "[" + FormatFloat(a) + ", " + FormatFloat(z) + closing + ": " + FormatCount(count)
}

func (s *barsSection) svg(b *strings.Builder) {
	const rowH, labelW, barW, valueW = 20.0, 190.0, 300.0, 70.0
	lo, hi := 0.0, 0.0
	for _, v := range s.values {
		if finite(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo == hi {
		hi = lo + 1
	}
	x := linear{lo, hi, labelW, labelW + barW}
	zero := x.at(0)
	h := rowH*float64(len(s.values)) + 6
	w := labelW + barW + valueW
	b.WriteString(`<svg class="chart" viewBox="0 0 ` + num(w) + " " + num(h) + `" width="` + num(w) +
		`" height="` + num(h) + `" role="img" aria-label="` + esc(s.title) + `">`)
	for i, v := range s.values {
		y := 3 + rowH*float64(i)
		label := s.labels[i]
		b.WriteString(`<text class="tk" x="` + num(labelW-6) + `" y="` + num(y+rowH/2+3.5) + `" text-anchor="end">` +
			esc(truncRunes(label, 30)) + "<title>" + esc(label) + "</title></text>")
		vx := labelW + barW + 6
		if finite(v) {
			x0, x1 := min(zero, x.at(v)), max(zero, x.at(v))
			cls := "bar"
			if v < 0 {
				cls = "bar neg"
			}
			b.WriteString(`<rect class="` + cls + `" x="` + num(x0) + `" y="` + num(y+3) + `" width="` +
				num(max(x1-x0, 1)) + `" height="` + num(rowH-6) + `"/>`)
		}
		b.WriteString(`<text class="tk val" x="` + num(vx) + `" y="` + num(y+rowH/2+3.5) + `">` +
			esc(FormatFloat(v)) + "</text>")
	}
	b.WriteString(`<path class="axis" d="M` + num(zero) + " 0V" + num(h) + `"/></svg>`)
}

// sparkline writes a small bar chart of counts; label(i) is the tooltip of bar i.
func sparkline(b *strings.Builder, counts []int, label func(i int) string) {
	const w, h = 120.0, 26.0
	maxCount := 0
	for _, n := range counts {
		maxCount = max(maxCount, n)
	}
	b.WriteString(`<svg class="spark" viewBox="0 0 120 26" width="120" height="26">`)
	if maxCount > 0 {
		bw := w / float64(len(counts))
		for i, n := range counts {
			if n == 0 {
				continue
			}
			bh := max(h*float64(n)/float64(maxCount), 1)
			b.WriteString(`<rect x="` + num(float64(i)*bw) + `" y="` + num(h-bh) + `" width="` +
				num(max(bw-1, 0.5)) + `" height="` + num(bh) + `"><title>` + esc(label(i)) + "</title></rect>")
		}
	}
	b.WriteString(`<path class="base" d="M0 25.5H120"/></svg>`)
}

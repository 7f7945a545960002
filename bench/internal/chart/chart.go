// Package chart draws the grouped bar charts of the load tool's comparison report as PNG images,
// with the standard library only: rectangles and a small bitmap font of its own.
package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// Series is one bar of every group: a server, in the comparison.
type Series struct {
	Name  string
	Color color.RGBA
}

// Group is one cluster of bars, one value per series. A value that is not positive is drawn as
// a missing bar ("n/a").
type Group struct {
	Label  string
	Values []float64
}

// Panel is one bar chart with its own axis.
type Panel struct {
	Title string
	// Log draws the value axis in powers of ten, for figures that differ by orders of
	// magnitude.
	Log    bool
	Groups []Group
	// Format writes a value label; nil uses three significant digits.
	Format func(float64) string
}

// Chart is a title, a legend and panels stacked vertically.
type Chart struct {
	Title  string
	Series []Series
	Panels []Panel
	// Width in pixels; defaults to 1000.
	Width int
}

// Colors that read well next to each other and in grey scale.
var (
	Orange = color.RGBA{0xE0, 0x7B, 0x1F, 0xFF}
	Blue   = color.RGBA{0x1F, 0x5F, 0xB4, 0xFF}
	Green  = color.RGBA{0x2E, 0x8B, 0x57, 0xFF}
	Purple = color.RGBA{0x7B, 0x3F, 0xA0, 0xFF}

	background = color.RGBA{0xFF, 0xFF, 0xFF, 0xFF}
	ink        = color.RGBA{0x20, 0x20, 0x20, 0xFF}
	grid       = color.RGBA{0xDD, 0xDD, 0xDD, 0xFF}
	faint      = color.RGBA{0x88, 0x88, 0x88, 0xFF}
)

const (
	panelHeight = 300
	headerH     = 70 // chart title and legend
	marginLeft  = 80
	marginRight = 20
	panelTop    = 34 // panel title
	panelBottom = 36 // group labels
)

// WritePNG renders c and encodes it as PNG.
func (c Chart) WritePNG(w io.Writer) error {
	return png.Encode(w, c.Render())
}

// Render draws c.
func (c Chart) Render() *image.RGBA {
	width := c.Width
	if width <= 0 {
		width = 1000
	}
	height := headerH + len(c.Panels)*panelHeight + 10
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), background)

	drawText(img, 20, 16, 3, c.Title, ink)
	x := 20
	for _, s := range c.Series {
		fill(img, image.Rect(x, 48, x+14, 62), s.Color)
		drawText(img, x+20, 48, 2, s.Name, ink)
		x += 20 + textWidth(s.Name, 2) + 30
	}
	for i, p := range c.Panels {
		c.drawPanel(img, image.Rect(0, headerH+i*panelHeight, width, headerH+(i+1)*panelHeight), p)
	}
	return img
}

func (c Chart) drawPanel(img *image.RGBA, r image.Rectangle, p Panel) {
	format := p.Format
	if format == nil {
		format = func(v float64) string { return fmt.Sprintf("%.3g", v) }
	}
	drawText(img, r.Min.X+20, r.Min.Y+12, 2, p.Title, ink)
	plot := image.Rect(r.Min.X+marginLeft, r.Min.Y+panelTop+16, r.Max.X-marginRight, r.Max.Y-panelBottom)

	lo, hi := axisRange(p)
	scale := func(v float64) int { // value -> y pixel
		var f float64
		if p.Log {
			f = (math.Log10(v) - lo) / (hi - lo)
		} else {
			f = (v - lo) / (hi - lo)
		}
		f = math.Max(0, math.Min(1, f))
		return plot.Max.Y - int(math.Round(f*float64(plot.Dy())))
	}
	// Grid lines and their labels.
	for _, t := range ticks(lo, hi, p.Log) {
		y := scale(t)
		fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), grid)
		label := format(t)
		drawText(img, plot.Min.X-8-textWidth(label, 1), y-3, 1, label, faint)
	}
	fill(img, image.Rect(plot.Min.X, plot.Min.Y, plot.Min.X+1, plot.Max.Y+1), ink)
	fill(img, image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), ink)

	if len(p.Groups) == 0 || len(c.Series) == 0 {
		return
	}
	groupW := plot.Dx() / len(p.Groups)
	barW := groupW * 7 / 10 / len(c.Series)
	for gi, g := range p.Groups {
		gx := plot.Min.X + gi*groupW + groupW*15/100
		for si, s := range c.Series {
			bx := gx + si*barW
			var v float64
			if si < len(g.Values) {
				v = g.Values[si]
			}
			if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				drawCentered(img, bx+barW/2, plot.Max.Y-12, 1, "N/A", faint)
				continue
			}
			y := scale(v)
			fill(img, image.Rect(bx+2, y, bx+barW-2, plot.Max.Y), s.Color)
			drawCentered(img, bx+barW/2, y-11, 1, format(v), ink)
		}
		drawCentered(img, plot.Min.X+gi*groupW+groupW/2, plot.Max.Y+10, 2, g.Label, ink)
	}
}

// axisRange returns the axis's bounds: log10 of the powers of ten around the values, or zero
// to a round number above the largest value.
func axisRange(p Panel) (lo, hi float64) {
	minV, maxV := math.Inf(1), 0.0
	for _, g := range p.Groups {
		for _, v := range g.Values {
			if v > 0 && !math.IsInf(v, 0) {
				minV = math.Min(minV, v)
				maxV = math.Max(maxV, v)
			}
		}
	}
	if maxV == 0 {
		return 0, 1
	}
	if p.Log {
		lo = math.Floor(math.Log10(minV))
		hi = math.Ceil(math.Log10(maxV))
		if hi == lo {
			hi++
		}
		return lo, hi
	}
	return 0, niceCeil(maxV * 1.1)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*e {
			return m * e
		}
	}
	return 10 * e
}

// ticks returns the values of the grid lines.
func ticks(lo, hi float64, log bool) []float64 {
	var out []float64
	if log {
		for e := lo; e <= hi; e++ {
			out = append(out, math.Pow(10, e))
		}
		return out
	}
	step := hi / 5
	for v := 0.0; v <= hi*1.0001; v += step {
		out = append(out, v)
	}
	return out
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// drawText draws s with its top-left corner at (x, y), each font pixel scale pixels wide.
func drawText(img *image.RGBA, x, y, scale int, s string, c color.RGBA) {
	for _, r := range s {
		g := glyph(r)
		for row, line := range g {
			for col, px := range line {
				if px == '#' {
					fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
				}
			}
		}
		x += advance * scale
	}
}

// drawCentered draws s centred horizontally on cx.
func drawCentered(img *image.RGBA, cx, y, scale int, s string, c color.RGBA) {
	drawText(img, cx-textWidth(s, scale)/2, y, scale, s, c)
}

package chart

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestRenderDrawsBarsInSeriesColors(t *testing.T) {
	c := Chart{
		Title:  "Test",
		Series: []Series{{"Node", Orange}, {"Go", Blue}},
		Panels: []Panel{
			{Title: "latency (ms)", Log: true, Groups: []Group{{"p50", []float64{3, 0.3}}, {"p99", []float64{200, 2}}}},
			{Title: "memory", Groups: []Group{{"KiB", []float64{15, 0}}}}, // a missing value
		},
		Width: 600,
	}
	var buf bytes.Buffer
	if err := c.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 600 || img.Bounds().Dy() != headerH+2*panelHeight+10 {
		t.Fatalf("size %v", img.Bounds())
	}
	count := map[[3]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			count[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	orange := count[[3]uint32{0xE0, 0x7B, 0x1F}]
	blue := count[[3]uint32{0x1F, 0x5F, 0xB4}]
	// Node's bars are taller in every group and Go has one bar less: more orange than blue, and
	// both present beyond the legend squares (14x14 each).
	if orange <= blue || blue <= 14*14 {
		t.Fatalf("orange %d px, blue %d px", orange, blue)
	}
}

func TestAxis(t *testing.T) {
	lo, hi := axisRange(Panel{Log: true, Groups: []Group{{"", []float64{0.3, 250}}}})
	if lo != -1 || hi != 3 {
		t.Fatalf("log range %v..%v, want -1..3", lo, hi)
	}
	lo, hi = axisRange(Panel{Groups: []Group{{"", []float64{43, 7}}}})
	if lo != 0 || hi != 50 {
		t.Fatalf("linear range %v..%v, want 0..50", lo, hi)
	}
	if got := ticks(0, 50, false); len(got) != 6 || got[5] != 50 {
		t.Fatalf("ticks %v", got)
	}
	if got := ticks(-1, 1, true); len(got) != 3 || math.Abs(got[0]-0.1) > 1e-12 || got[2] != 10 {
		t.Fatalf("log ticks %v", got)
	}
	if lo, hi := axisRange(Panel{}); lo != 0 || hi != 1 {
		t.Fatalf("empty range %v..%v", lo, hi)
	}
}

func TestFontIsWellFormed(t *testing.T) {
	for r, g := range glyphs {
		for _, row := range g {
			if len(row) != glyphW {
				t.Fatalf("glyph %q has a row of %d columns", r, len(row))
			}
		}
	}
	if glyph('a') != glyphs['A'] || glyph('~') != glyphs['?'] {
		t.Fatal("lower case or fallback wrong")
	}
}

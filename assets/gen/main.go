// Command gen draws Ferry's icons (the app icon and the tray icons for each
// state, in light and dark variants, plus monochrome templates for macOS)
// and writes them as PNG/SVG files into the assets directory. Run it with
// `go generate ./assets` from the repository root.
//
// The icons are drawn from a few shapes (a hull, a cabin, two waves and a
// state badge) so that they stay crisp at tray sizes; supersampling gives
// the edges their anti-aliasing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

type rgba = color.NRGBA

func rgb(r, g, b uint8) rgba { return rgba{R: r, G: g, B: b, A: 0xff} }

var (
	ink      = rgb(0x1f, 0x29, 0x37) // glyph on light panels
	paper    = rgb(0xf3, 0xf4, 0xf6) // glyph on dark panels
	green    = rgb(0x16, 0xa3, 0x4a)
	amber    = rgb(0xd9, 0x77, 0x06)
	red      = rgb(0xdc, 0x26, 0x26)
	appBlue  = rgb(0x25, 0x63, 0xeb)
	appWhite = rgb(0xff, 0xff, 0xff)
)

// shape reports whether the point (x, y), in units of the icon's side
// (0..1), is inside.
type shape func(x, y float64) bool

type layer struct {
	in shape
	c  rgba
}

func polygon(pts ...[2]float64) shape {
	return func(x, y float64) bool {
		in := false
		for i, j := 0, len(pts)-1; i < len(pts); j, i = i, i+1 {
			xi, yi := pts[i][0], pts[i][1]
			xj, yj := pts[j][0], pts[j][1]
			if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
				in = !in
			}
		}
		return in
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

// wave is a band following a sine around the line y = cy.
func wave(cy, amp, thick, x0, x1 float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 {
			return false
		}
		mid := cy + amp*math.Sin((x-x0)/(x1-x0)*4*math.Pi)
		return math.Abs(y-mid) <= thick/2
	}
}

func union(s ...shape) shape {
	return func(x, y float64) bool {
		for _, f := range s {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

func minus(a, b shape) shape { return func(x, y float64) bool { return a(x, y) && !b(x, y) } }

// boat is the ferry glyph: hull, cabin with a window, and a wave under it.
func boat() shape {
	hull := polygon([2]float64{0.10, 0.52}, [2]float64{0.90, 0.52}, [2]float64{0.76, 0.70}, [2]float64{0.24, 0.70})
	cabin := minus(roundRect(0.30, 0.30, 0.66, 0.50, 0.04), roundRect(0.36, 0.35, 0.46, 0.44, 0.015))
	funnel := roundRect(0.52, 0.18, 0.60, 0.30, 0.01)
	sea := wave(0.82, 0.025, 0.06, 0.08, 0.92)
	return union(hull, cabin, funnel, sea)
}

func render(size int, layers []layer) *image.NRGBA {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					for i := len(layers) - 1; i >= 0; i-- {
						if layers[i].in(x, y) {
							c := layers[i].c
							r += float64(c.R)
							g += float64(c.G)
							b += float64(c.B)
							a += float64(c.A)
							break
						}
					}
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			// Colour averaged over covered samples only, alpha over all.
			cov := a / 255
			img.SetNRGBA(px, py, rgba{R: uint8(r / cov), G: uint8(g / cov), B: uint8(b / cov), A: uint8(a / n)})
		}
	}
	return img
}

// badge is the state mark in the lower right corner; the ring around it
// cuts the glyph so the badge reads on any panel colour.
func badgeLayers(glyph shape, glyphColour rgba, state string) []layer {
	cx, cy, r := 0.78, 0.24, 0.17
	cut := circle(cx, cy, r+0.05)
	g := minus(glyph, cut)
	switch state {
	case "running":
		return []layer{{g, glyphColour}, {circle(cx, cy, r), green}}
	case "paused":
		bars := union(roundRect(cx-0.08, cy-0.09, cx-0.025, cy+0.09, 0.01), roundRect(cx+0.025, cy-0.09, cx+0.08, cy+0.09, 0.01))
		return []layer{{g, glyphColour}, {circle(cx, cy, r), amber}, {bars, appWhite}}
	case "down":
		mark := union(roundRect(cx-0.025, cy-0.11, cx+0.025, cy+0.03, 0.01), circle(cx, cy+0.08, 0.03))
		return []layer{{g, glyphColour}, {circle(cx, cy, r), red}, {mark, appWhite}}
	}
	panic("unknown state " + state)
}

func writePNG(dir, name string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// templateSVG is the macOS template image: black shapes on transparent,
// which macOS tints for the menu bar. It is an SVG so Fyne can mark it as a
// template (it does that for themed SVG resources only).
func templateSVG(state string) string {
	glyph := `<path d="M3.2 16.6H28.8L24.3 22.4H7.7Z"/><path fill-rule="evenodd" d="M9.6 9.6H21.1V16H9.6ZM11.5 11.2V14.1H14.7V11.2Z"/><rect x="16.6" y="5.8" width="2.6" height="3.8"/><path d="M2.6 26.2q3.2-2 6.4 0t6.4 0t6.4 0t6.4 0v1.9q-3.2 2-6.4 0t-6.4 0t-6.4 0t-6.4 0Z"/>`
	var badge string
	switch state {
	case "running":
		badge = ``
	case "paused":
		badge = `<rect x="22.3" y="4.8" width="2" height="5.8"/><rect x="25.6" y="4.8" width="2" height="5.8"/>`
	case "down":
		badge = `<rect x="24" y="3.6" width="2" height="5"/><circle cx="25" cy="10.4" r="1.1"/>`
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32" fill="#000000">%s%s</svg>`+"\n", glyph, badge)
}

func main() {
	dir := flag.String("dir", ".", "directory to write the icons into")
	flag.Parse()
	if err := generate(*dir); err != nil {
		log.Fatal(err)
	}
}

// generate writes every icon into dir.
func generate(dir string) error {
	glyph := boat()
	// App icon: white ferry on a blue rounded square.
	app := []layer{{roundRect(0.02, 0.02, 0.98, 0.98, 0.2), appBlue}, {func(x, y float64) bool {
		// shrink the glyph into the square's centre
		return glyph((x-0.12)/0.76, (y-0.10)/0.76)
	}, appWhite}}
	if err := writePNG(dir, "icon.png", render(512, app)); err != nil {
		return err
	}
	for _, state := range []string{"running", "paused", "down"} {
		if err := writePNG(dir, "tray-"+state+"-light.png", render(64, badgeLayers(glyph, ink, state))); err != nil {
			return err
		}
		if err := writePNG(dir, "tray-"+state+"-dark.png", render(64, badgeLayers(glyph, paper, state))); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "tray-"+state+"-template.svg"), []byte(templateSVG(state)), 0o644); err != nil {
			return fmt.Errorf("write template: %w", err)
		}
	}
	return nil
}

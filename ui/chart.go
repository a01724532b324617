package ui

import (
	"image/color"
	"math"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ChartKind selects how a chart draws its series.
type ChartKind int

const (
	// Lines draws each series as a polyline.
	Lines ChartKind = iota
	// StackedBars draws one bar per step with the series stacked.
	StackedBars
)

// Palette is the series colours: mid-tone hues that read on the light and
// the dark theme alike.
var Palette = []color.Color{
	color.NRGBA{0x3b, 0x82, 0xf6, 0xff}, // blue
	color.NRGBA{0xf5, 0x9e, 0x0b, 0xff}, // amber
	color.NRGBA{0xef, 0x44, 0x44, 0xff}, // red
	color.NRGBA{0x22, 0xc5, 0x5e, 0xff}, // green
	color.NRGBA{0xa8, 0x55, 0xf7, 0xff}, // purple
	color.NRGBA{0x14, 0xb8, 0xa6, 0xff}, // teal
	color.NRGBA{0x94, 0xa3, 0xb8, 0xff}, // slate
}

// ChartSeries is one named series; Values align with the chart's times.
// A NaN value is a gap: lines break there (a step without requests has no
// latency; a failed probe has none either).
type ChartSeries struct {
	Name   string
	Color  color.Color // nil: Palette by index
	Values []float64
}

// Chart is a small chart drawn with canvas primitives: a y axis with
// "nice" ticks and a unit, time labels on the x axis, a legend, and
// either lines or stacked bars. As a sparkline it draws the line alone.
// Its methods must be called on Fyne's main goroutine.
type Chart struct {
	widget.BaseWidget
	Kind  ChartKind
	Title string
	// Unit is appended to the title, e.g. "ms" or "requests / min".
	Unit string
	// FormatY formats tick values; nil gives plain numbers with as many
	// decimals as the tick step needs, after Prefix.
	FormatY   func(float64) string
	Prefix    string
	Sparkline bool

	times  []time.Time
	series []ChartSeries
}

// NewChart returns an empty chart.
func NewChart(kind ChartKind, title, unit string, formatY func(float64) string) *Chart {
	c := &Chart{Kind: kind, Title: title, Unit: unit, FormatY: formatY}
	c.ExtendBaseWidget(c)
	return c
}

// NewSparkline returns a line chart with no axes, for one series.
func NewSparkline() *Chart {
	c := &Chart{Kind: Lines, Sparkline: true}
	c.ExtendBaseWidget(c)
	return c
}

// SetData replaces the data and redraws. times[i] is the start of step i.
func (c *Chart) SetData(times []time.Time, series []ChartSeries) {
	c.times, c.series = times, series
	c.Refresh()
}

// Series returns the chart's series (for tests and the details view).
func (c *Chart) Series() []ChartSeries { return c.series }

// CreateRenderer implements fyne.Widget.
func (c *Chart) CreateRenderer() fyne.WidgetRenderer {
	return &chartRenderer{c: c}
}

type chartRenderer struct {
	c       *Chart
	size    fyne.Size
	objects []fyne.CanvasObject
}

func (r *chartRenderer) Destroy() {}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *chartRenderer) MinSize() fyne.Size {
	if r.c.Sparkline {
		return fyne.NewSize(120, 24)
	}
	return fyne.NewSize(280, 170)
}

func (r *chartRenderer) Layout(s fyne.Size) {
	r.size = s
	r.build()
}

func (r *chartRenderer) Refresh() {
	r.build()
	canvas.Refresh(r.c)
}

func (r *chartRenderer) colour(i int, s ChartSeries) color.Color {
	if s.Color != nil {
		return s.Color
	}
	return Palette[i%len(Palette)]
}

// yMax is the top of the value range: the largest value, or the largest
// stack for bars.
func (r *chartRenderer) yMax() float64 {
	max := 0.0
	n := len(r.c.times)
	if r.c.Kind == StackedBars {
		for i := 0; i < n; i++ {
			sum := 0.0
			for _, s := range r.c.series {
				if i < len(s.Values) && !math.IsNaN(s.Values[i]) {
					sum += s.Values[i]
				}
			}
			max = math.Max(max, sum)
		}
		return max
	}
	for _, s := range r.c.series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				max = math.Max(max, v)
			}
		}
	}
	return max
}

// TickLabel formats an axis value with the decimals the tick step needs
// (0.25 steps show two, 12.5 steps one), and k/M above ten thousand.
func TickLabel(v, step float64) string {
	if math.Abs(v) >= 1e4 {
		return FormatCount(v)
	}
	d := 0
	for ; d < 6; d++ {
		x := step * math.Pow(10, float64(d))
		if math.Abs(x-math.Round(x)) < 1e-6*math.Max(1, x) {
			break
		}
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

// NiceMax rounds v up to 1, 2, 2.5 or 5 times a power of ten, so ticks
// fall on round numbers.
func NiceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func text(s string, c color.Color, size float32) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextSize = size
	return t
}

func (r *chartRenderer) build() {
	c := r.c
	w, h := r.size.Width, r.size.Height
	fg := theme.Color(theme.ColorNameForeground)
	muted := theme.Color(theme.ColorNamePlaceHolder)
	grid := theme.Color(theme.ColorNameSeparator)
	small := theme.CaptionTextSize()
	var objs []fyne.CanvasObject
	n := len(c.times)
	top := r.yMax()

	if c.Sparkline {
		r.objects = r.lines(r.gapMarks(w, h, n), 0, 0, w, h, NiceMax(top), n)
		return
	}

	// Title and legend on the first line.
	title := c.Title
	if c.Unit != "" {
		title += " (" + c.Unit + ")"
	}
	tt := text(title, fg, theme.TextSize())
	tt.TextStyle.Bold = true
	objs = append(objs, tt)
	titleH := fyne.MeasureText(title, theme.TextSize(), tt.TextStyle).Height
	legendY := titleH + 2
	x := float32(0)
	legendH := float32(0)
	for i, s := range c.series {
		sw := canvas.NewRectangle(r.colour(i, s))
		lt := text(s.Name, fg, small)
		ls := fyne.MeasureText(s.Name, small, lt.TextStyle)
		if x > 0 && x+ls.Width+16 > w {
			x = 0
			legendY += ls.Height
		}
		sw.Move(fyne.NewPos(x, legendY+ls.Height/2-4))
		sw.Resize(fyne.NewSize(8, 8))
		lt.Move(fyne.NewPos(x+11, legendY))
		objs = append(objs, sw, lt)
		x += ls.Width + 22
		legendH = legendY + ls.Height - titleH
	}

	const ticks = 4
	ymax := NiceMax(top)
	format := c.FormatY
	if format == nil {
		step := ymax / ticks
		format = func(v float64) string { return c.Prefix + TickLabel(v, step) }
	}
	labelW := float32(0)
	for i := 0; i <= ticks; i++ {
		lw := fyne.MeasureText(format(ymax*float64(i)/ticks), small, fyne.TextStyle{}).Width
		labelW = float32(math.Max(float64(labelW), float64(lw)))
	}
	lineH := fyne.MeasureText("0", small, fyne.TextStyle{}).Height
	px, py := labelW+6, titleH+legendH+lineH/2+6
	pw, ph := w-px-4, h-py-lineH-4
	if pw < 10 || ph < 10 {
		r.objects = objs
		return
	}

	for i := 0; i <= ticks; i++ {
		y := py + ph - ph*float32(i)/ticks
		gl := canvas.NewLine(grid)
		gl.StrokeWidth = 1
		gl.Position1, gl.Position2 = fyne.NewPos(px, y), fyne.NewPos(px+pw, y)
		label := format(ymax * float64(i) / ticks)
		lt := text(label, muted, small)
		lt.Alignment = fyne.TextAlignTrailing
		lt.Move(fyne.NewPos(0, y-lineH/2))
		lt.Resize(fyne.NewSize(labelW, lineH))
		objs = append(objs, gl, lt)
	}
	axis := canvas.NewLine(muted)
	axis.StrokeWidth = 1
	axis.Position1, axis.Position2 = fyne.NewPos(px, py), fyne.NewPos(px, py+ph)
	objs = append(objs, axis)

	if n == 0 || top == 0 {
		empty := text(lang.L("No data yet"), muted, small)
		es := fyne.MeasureText(empty.Text, small, empty.TextStyle)
		empty.Move(fyne.NewPos(px+(pw-es.Width)/2, py+(ph-es.Height)/2))
		objs = append(objs, empty)
	}
	if n > 0 {
		objs = append(objs, r.timeLabels(px, py+ph+2, pw, lineH, muted, small)...)
	}
	if c.Kind == StackedBars {
		objs = append(objs, r.bars(px, py, pw, ph, ymax, n)...)
	} else {
		objs = r.lines(objs, px, py, pw, ph, ymax, n)
	}
	r.objects = objs
}

func (r *chartRenderer) lines(objs []fyne.CanvasObject, px, py, pw, ph float32, ymax float64, n int) []fyne.CanvasObject {
	if n == 0 {
		return objs
	}
	stepX := pw / float32(max(n-1, 1))
	gap := func(v []float64, i int) bool { return i < 0 || i >= len(v) || math.IsNaN(v[i]) }
	for si, s := range r.c.series {
		col := r.colour(si, s)
		// A point with gaps on both sides has no segment: draw it as a dot.
		for i := 0; i < n && i < len(s.Values); i++ {
			if gap(s.Values, i) || !gap(s.Values, i-1) || !gap(s.Values, i+1) {
				continue
			}
			dot := canvas.NewCircle(col)
			dot.Move(fyne.NewPos(px+stepX*float32(i)-2, py+ph-ph*float32(s.Values[i]/ymax)-2))
			dot.Resize(fyne.NewSize(4, 4))
			objs = append(objs, dot)
		}
		for i := 1; i < n && i < len(s.Values); i++ {
			if math.IsNaN(s.Values[i-1]) || math.IsNaN(s.Values[i]) {
				continue
			}
			l := canvas.NewLine(col)
			l.StrokeWidth = 1.5
			l.Position1 = fyne.NewPos(px+stepX*float32(i-1), py+ph-ph*float32(s.Values[i-1]/ymax))
			l.Position2 = fyne.NewPos(px+stepX*float32(i), py+ph-ph*float32(s.Values[i]/ymax))
			objs = append(objs, l)
		}
	}
	return objs
}

// gapMarks draws a short red tick on the baseline of a sparkline for each
// NaN in its first series: there the probe failed.
func (r *chartRenderer) gapMarks(w, h float32, n int) []fyne.CanvasObject {
	if len(r.c.series) == 0 || n == 0 {
		return nil
	}
	var objs []fyne.CanvasObject
	step := w / float32(max(n-1, 1))
	for i, v := range r.c.series[0].Values {
		if !math.IsNaN(v) {
			continue
		}
		m := canvas.NewRectangle(Palette[2])
		m.Move(fyne.NewPos(float32(i)*step-1.5, h-4))
		m.Resize(fyne.NewSize(3, 4))
		objs = append(objs, m)
	}
	return objs
}

func (r *chartRenderer) bars(px, py, pw, ph float32, ymax float64, n int) []fyne.CanvasObject {
	var objs []fyne.CanvasObject
	slot := pw / float32(n)
	bw := float32(math.Max(1, float64(slot*0.8)))
	for i := 0; i < n; i++ {
		base := py + ph
		for si, s := range r.c.series {
			if i >= len(s.Values) || !(s.Values[i] > 0) {
				continue
			}
			bh := ph * float32(s.Values[i]/ymax)
			rect := canvas.NewRectangle(r.colour(si, s))
			rect.Move(fyne.NewPos(px+slot*float32(i)+(slot-bw)/2, base-bh))
			rect.Resize(fyne.NewSize(bw, bh))
			objs = append(objs, rect)
			base -= bh
		}
	}
	return objs
}

// timeLabels puts the first, middle and last step times under the plot,
// as clock times for spans up to a day and dates beyond.
func (r *chartRenderer) timeLabels(px, y, pw, lineH float32, col color.Color, size float32) []fyne.CanvasObject {
	ts := r.c.times
	layout := "15:04"
	if ts[len(ts)-1].Sub(ts[0]) > 24*time.Hour {
		layout = "01-02"
	}
	idx := []int{0, len(ts) / 2, len(ts) - 1}
	if len(ts) < 3 {
		idx = idx[:1]
	}
	align := []fyne.TextAlign{fyne.TextAlignLeading, fyne.TextAlignCenter, fyne.TextAlignTrailing}
	var objs []fyne.CanvasObject
	for k, i := range idx {
		t := text(ts[i].Format(layout), col, size)
		t.Alignment = align[k]
		t.Resize(fyne.NewSize(pw/3, lineH))
		switch k {
		case 0:
			t.Move(fyne.NewPos(px, y))
		case 1:
			t.Move(fyne.NewPos(px+pw/3, y))
		case 2:
			t.Move(fyne.NewPos(px+2*pw/3, y))
		}
		objs = append(objs, t)
	}
	return objs
}

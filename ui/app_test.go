package ui

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/proxy/events"
)

func startDesktop(t *testing.T, core *fakeCore, opts Options) (*Desktop, fyne.App) {
	t.Helper()
	a := test.NewTempApp(t)
	opts.testSync = true
	if opts.Autostart == nil {
		opts.Autostart = &memAutostart{}
	}
	opts.Now = func() time.Time { return time.Date(2026, 11, 25, 14, 30, 0, 0, time.Local) }
	d, err := Run(a, core, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, a
}

// texts collects every visible string under o: labels, buttons, canvas
// texts, entries, selects, checks and tab titles.
func texts(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		if !obj.Visible() {
			continue
		}
		switch v := obj.(type) {
		case *canvas.Text:
			out = append(out, v.Text)
		case *widget.Label:
			out = append(out, v.Text)
		case *widget.Button:
			out = append(out, v.Text)
		case *widget.Entry:
			out = append(out, v.Text)
		case *widget.Check:
			out = append(out, v.Text)
		case *widget.Select:
			out = append(out, v.Selected)
		}
	}
	return out
}

// windowTitles lists the app's windows by title (Fyne's test app keeps an
// untitled window of its own), sorted.
func windowTitles(a fyne.App) []string {
	var out []string
	for _, w := range a.Driver().AllWindows() {
		if w.Title() != "" {
			out = append(out, w.Title())
		}
	}
	slices.Sort(out)
	return out
}

func hasText(o fyne.CanvasObject, want string) bool {
	return slices.ContainsFunc(texts(o), func(s string) bool { return strings.Contains(s, want) })
}

func findButton(t *testing.T, o fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Text == label {
			return b
		}
	}
	t.Fatalf("no button %q", label)
	return nil
}

func find[T fyne.CanvasObject](o fyne.CanvasObject) []T {
	var out []T
	for _, obj := range test.LaidOutObjects(o) {
		if v, ok := obj.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func TestNoTrayFallbackOpensDashboardAndQuits(t *testing.T) {
	core := newFakeCore()
	var quitCalled atomic.Bool
	d, a := startDesktop(t, core, Options{Main: true, OnQuit: func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("OnQuit context has no deadline")
		}
		quitCalled.Store(true)
		return nil
	}})
	if titles := windowTitles(a); !slices.Equal(titles, []string{"Ferry dashboard"}) {
		t.Fatalf("windows = %q", titles)
	}
	win := d.dashWin
	content := win.Content()
	if !hasText(content, "No system tray was found") {
		t.Error("fallback note missing")
	}
	if !hasText(content, "Quit Ferry") {
		t.Error("fallback has no Quit button")
	}
	findButton(t, content, "Quit Ferry").OnTapped()
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("closing the fallback window did not quit")
	}
	if !quitCalled.Load() {
		t.Fatal("OnQuit not called")
	}
}

func TestQuitEndsTheEventGoroutine(t *testing.T) {
	core := newFakeCore()
	a := test.NewTempApp(t)
	var quitCalled atomic.Bool
	d, err := Run(a, core, Options{Main: true, Autostart: &memAutostart{}, OnQuit: func(context.Context) error {
		quitCalled.Store(true)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	core.bus.Publish(events.Event{Kind: events.RouteDown, Route: "Direct"})
	d.Quit()
	d.Quit() // twice is fine
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Quit did not finish")
	}
	if !quitCalled.Load() {
		t.Fatal("OnQuit not called")
	}
}

func TestDashboardShowsStatsChartsTableAndRoutes(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{}) // testSync: refreshed inline
	content := d.dashWin.Content()
	for _, want := range []string{"120", "95.0%", "$2.35", "$41.50", "Requests: 45 of 50 left", "Listening on http://127.0.0.1:7856", "Pause Ferry",
		"claude-sonnet-4-5: 100 requests, 5 errors, $1.40", "Direct: 2 requests, 2 errors, $0.00", "overloaded_error: 4", "Overview", "Requests", "Routes"} {
		if !hasText(content, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	db := d.dash
	if n := len(db.reqChart.Series()); n != 1+len(errorClasses) {
		t.Errorf("requests chart has %d series", n)
	}
	if s := db.reqChart.Series()[0]; len(s.Values) != 60 || s.Values[6] != 6 {
		t.Errorf("OK series = %v", s.Values)
	}
	if got := db.latTotal.Series()[2].Values[10]; got != 900 {
		t.Errorf("total p99 at step 10 = %v ms, want 900", got)
	}
	if len(db.tokChart.Series()) != 4 || len(db.costChart.Series()) != 1 {
		t.Error("tokens or spend chart series wrong")
	}

	// Table: all three, then filters.
	if len(db.shown) != 3 {
		t.Fatalf("table rows = %d", len(db.shown))
	}
	db.statusSel.SetSelectedIndex(2) // errors
	if len(db.shown) != 2 {
		t.Errorf("errors filter: %d rows", len(db.shown))
	}
	db.statusSel.SetSelectedIndex(0)
	db.modelSel.SetSelected("claude-haiku-4-5")
	if len(db.shown) != 1 || db.shown[0].Model != "claude-haiku-4-5" {
		t.Errorf("model filter: %+v", db.shown)
	}
	db.modelSel.SetSelectedIndex(0)
	db.table.Select(widget.TableCellID{Row: 0, Col: 1})
	overlays := d.dashWin.Canvas().Overlays().List()
	if len(overlays) == 0 || !hasText(overlays[0], "req_1") {
		t.Error("selecting a row did not open its details")
	}

	if !hasText(db.routesBox, "Last error: dial tcp: i/o timeout") || !hasText(db.routesBox, "serving requests") {
		t.Errorf("route health: %q", texts(db.routesBox))
	}
	if len(find[*Chart](db.routesBox)) != 2 {
		t.Error("route health has no sparklines")
	}

	// Pausing from the dashboard.
	findButton(t, content, "Pause Ferry").OnTapped()
	if !core.Paused() {
		t.Fatal("dashboard Pause did not pause")
	}
	if !hasText(content, "Ferry is paused") || !hasText(content, "Resume Ferry") {
		t.Error("dashboard does not show the paused state")
	}
}

// Closing Ferry's main window (no tray) quits, even with another open.
func TestClosingTheMainWindowQuits(t *testing.T) {
	d, _ := startDesktop(t, newFakeCore(), Options{Main: true})
	d.show(WindowWelcome)
	d.dashWin.Close()
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("closing the main window did not quit")
	}
}

// Closing the last window ends the window process: the app quits.
func TestClosingTheLastWindowQuits(t *testing.T) {
	core := newFakeCore()
	d, a := startDesktop(t, core, Options{})
	d.show(WindowSettings)
	if titles := windowTitles(a); len(titles) != 2 {
		t.Fatalf("windows = %q", titles)
	}
	d.dashWin.Close()
	select {
	case <-d.Done():
		t.Fatal("closing one of two windows quit")
	default:
	}
	d.settingsWin.Close()
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("closing the last window did not quit")
	}
}

func TestWelcomeWindowRenders(t *testing.T) {
	core := newFakeCore()
	core.apiKey = ""
	_, a := startDesktop(t, core, Options{Show: WindowWelcome})
	var w fyne.Window
	for _, win := range a.Driver().AllWindows() {
		if win.Title() == "Welcome to Ferry" {
			w = win
		}
	}
	if w == nil {
		t.Fatal("no welcome window")
	}
	w.Resize(fyne.NewSize(640, 360))
	test.AssertRendersToMarkup(t, "welcome.xml", w.Canvas())
	if !hasText(w.Content(), "Ferry holds no Anthropic API key yet") {
		t.Error("no key note")
	}
	findButton(t, w.Content(), "Open settings").OnTapped()
	found := false
	for _, win := range a.Driver().AllWindows() {
		found = found || win.Title() == "Ferry settings"
	}
	if !found {
		t.Error("Open settings did not open the settings")
	}
}

func TestChartRenders(t *testing.T) {
	test.NewTempApp(t)
	base := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	var times []time.Time
	var a, b []float64
	for i := 0; i < 12; i++ {
		times = append(times, base.Add(time.Duration(i)*time.Minute))
		a = append(a, float64(i*i))
		b = append(b, float64(100-i*5))
	}
	lines := NewChart(Lines, "Latency", "ms", nil)
	lines.SetData(times, []ChartSeries{{Name: "p50", Values: a}, {Name: "p95", Values: b}})
	bars := NewChart(StackedBars, "Requests", "per minute", nil)
	bars.SetData(times, []ChartSeries{{Name: "OK", Values: b}, {Name: "Errors", Values: a}})
	empty := NewChart(Lines, "Tokens", "per minute", nil)
	w := test.NewWindow(container.NewGridWithColumns(1, lines, bars, empty))
	defer w.Close()
	w.Resize(fyne.NewSize(400, 600))
	test.AssertRendersToImage(t, "charts.png", w.Canvas())
	for _, want := range []string{"Latency (ms)", "p50", "p95", "10:00", "10:11", "200", "No data yet"} {
		if !hasText(w.Content(), want) {
			t.Errorf("charts lack %q: %q", want, texts(w.Content()))
		}
	}
}

func TestNiceMax(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.3: 0.5, 1: 1, 1.2: 2, 2.2: 2.5, 3: 5, 7: 10, 121: 200, 900: 1000, 1e6: 1e6} {
		if got := NiceMax(in); got != want {
			t.Errorf("NiceMax(%v) = %v, want %v", in, got, want)
		}
	}
}

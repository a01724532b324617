package ui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/storage"
)

// dashSpan is one of the dashboard's time windows.
type dashSpan struct {
	label func() string
	span  time.Duration
	step  time.Duration
	// spendStep is the bar width of the spend chart, spendSpan its range:
	// hours over the last day, or days over the last week.
	spendSpan, spendStep time.Duration
}

var dashSpans = []dashSpan{
	{func() string { return lang.L("15 min") }, 15 * time.Minute, time.Minute, 24 * time.Hour, time.Hour},
	{func() string { return lang.L("1 hour") }, time.Hour, time.Minute, 24 * time.Hour, time.Hour},
	{func() string { return lang.L("24 hours") }, 24 * time.Hour, 30 * time.Minute, 24 * time.Hour, time.Hour},
	{func() string { return lang.L("7 days") }, 7 * 24 * time.Hour, 6 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour},
}

// recentLimit is how many recent records the requests table holds.
const recentLimit = 200

// errorClasses are the classes stacked in the requests chart, in order.
var errorClasses = []storage.ErrorClass{
	storage.ClassClient4xx, storage.ClassUpstream4xx, storage.ClassUpstream5xx, storage.ClassNetwork, storage.ClassFerry,
}

// ClassLabel is the user-facing name of an error class.
func ClassLabel(c storage.ErrorClass) string {
	switch c {
	case storage.ClassNone:
		return lang.L("OK")
	case storage.ClassClient4xx:
		return lang.L("Refused by Ferry (4xx)")
	case storage.ClassUpstream4xx:
		return lang.L("Anthropic 4xx")
	case storage.ClassUpstream5xx:
		return lang.L("Anthropic 5xx")
	case storage.ClassNetwork:
		return lang.L("Network")
	case storage.ClassFerry:
		return lang.L("Ferry")
	}
	return string(c)
}

// dashData is one refresh's worth of data, read off the main goroutine.
type dashData struct {
	span   dashSpan
	now    time.Time
	stats  Stats
	series []SeriesPoint
	spend  []SeriesPoint
	recent []storage.Record
	routes []RouteStatus
	paused bool
	guard  guardGlance // dashguard.go
}

type dashboard struct {
	d    *Desktop
	span atomic.Int32

	root      fyne.CanvasObject
	status    *widget.Label
	pauseBtn  *widget.Button
	requests  *widget.Label
	success   *widget.Label
	today     *widget.Label
	month     *widget.Label
	headroom  *widget.Label
	byModel   *widget.Label
	byRoute   *widget.Label
	byError   *widget.Label
	latFirst  *Chart
	latTotal  *Chart
	reqChart  *Chart
	tokChart  *Chart
	costChart *Chart
	modelSel  *widget.Select
	statusSel *widget.Select
	table     *widget.Table
	routesBox *fyne.Container
	content   *contentCards // dashcontent.go
	guard     *guardCard    // dashguard.go

	all   []storage.Record
	shown []storage.Record
}

func newDashboard(d *Desktop, fallback bool) *dashboard {
	db := &dashboard{d: d}
	db.span.Store(1)
	db.status = widget.NewLabel("")
	db.status.Truncation = fyne.TextTruncateEllipsis
	db.pauseBtn = widget.NewButton(lang.L("Pause Ferry"), func() { d.togglePause(); db.refreshSoon() })
	header := []fyne.CanvasObject{
		db.pauseBtn,
		widget.NewButton(lang.L("Test latency now"), d.testAllRoutes),
		widget.NewButton(lang.L("Settings…"), d.showSettings),
	}
	if fallback {
		header = append(header, widget.NewButton(lang.L("Quit Ferry"), d.Quit))
	}
	top := container.NewBorder(nil, nil, nil, container.NewHBox(header...), db.status)

	var spanLabels []string
	for _, s := range dashSpans {
		spanLabels = append(spanLabels, s.label())
	}
	spanSel := widget.NewRadioGroup(spanLabels, func(v string) {
		if i := slices.Index(spanLabels, v); i >= 0 {
			db.span.Store(int32(i))
			db.refreshSoon()
		}
	})
	spanSel.Horizontal = true
	spanSel.Required = true
	spanSel.SetSelected(spanLabels[1])

	card := func(title string, value *widget.Label) fyne.CanvasObject {
		value.TextStyle.Bold = true
		return widget.NewCard("", title, value)
	}
	db.requests, db.success, db.today, db.month, db.headroom = widget.NewLabel("–"), widget.NewLabel("–"), widget.NewLabel("–"), widget.NewLabel("–"), widget.NewLabel("–")
	db.headroom.Wrapping = fyne.TextWrapWord
	cards := container.NewGridWithColumns(4,
		card(lang.L("Requests"), db.requests),
		card(lang.L("Success rate"), db.success),
		card(lang.L("Spend today"), db.today),
		card(lang.L("Spend this month"), db.month),
	)
	db.latFirst = NewChart(Lines, lang.L("Latency to first token"), lang.L("ms"), nil)
	db.latTotal = NewChart(Lines, lang.L("Total latency"), lang.L("ms"), nil)
	db.reqChart = NewChart(StackedBars, lang.L("Requests"), lang.L("per minute"), nil)
	db.tokChart = NewChart(StackedBars, lang.L("Tokens"), lang.L("per minute"), nil)
	db.costChart = NewChart(StackedBars, lang.L("Spend"), lang.L("USD per hour"), nil)
	db.costChart.Prefix = "$"
	charts := container.NewGridWithColumns(2, db.reqChart, db.tokChart, db.latFirst, db.latTotal, db.costChart,
		widget.NewCard("", lang.L("Rate-limit headroom"), db.headroom))
	db.byModel, db.byRoute, db.byError = widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel("")
	for _, l := range []*widget.Label{db.byModel, db.byRoute, db.byError} {
		l.Wrapping = fyne.TextWrapWord
	}
	breakdowns := container.NewGridWithColumns(3,
		widget.NewCard("", lang.L("By model"), db.byModel),
		widget.NewCard("", lang.L("By route"), db.byRoute),
		widget.NewCard("", lang.L("Errors by type"), db.byError),
	)
	db.content = newContentCards()
	db.guard = newGuardCard()
	overview := container.NewVScroll(container.NewVBox(spanSel, cards, db.guard.root, charts, db.content.root, breakdowns))

	db.modelSel = widget.NewSelect([]string{lang.L("All models")}, func(string) { db.filter() })
	db.modelSel.SetSelectedIndex(0)
	db.statusSel = widget.NewSelect(statusFilters(), func(string) { db.filter() })
	db.statusSel.SetSelectedIndex(0)
	db.table = db.newTable()
	requests := container.NewBorder(
		container.NewHBox(widget.NewLabel(lang.L("Model")), db.modelSel, widget.NewLabel(lang.L("Status")), db.statusSel),
		nil, nil, nil, db.table)

	db.routesBox = container.NewVBox()
	routes := container.NewVScroll(db.routesBox)

	tabs := container.NewAppTabs(
		container.NewTabItem(lang.L("Overview"), overview),
		container.NewTabItem(lang.L("Recent requests"), requests),
		container.NewTabItem(lang.L("Routes"), routes),
	)
	var body fyne.CanvasObject = container.NewBorder(top, nil, nil, nil, tabs)
	if fallback {
		note := widget.NewLabel(lang.L("No system tray was found on this desktop, so Ferry runs in this window. Closing it quits Ferry."))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		body = container.NewBorder(note, nil, nil, nil, body)
	}
	db.root = body
	return db
}

// statusFilters are the requests table's status choices; index 0 is all,
// 1 successes, 2 errors, then one per error class.
func statusFilters() []string {
	out := []string{lang.L("All"), lang.L("Successful"), lang.L("Errors")}
	for _, c := range errorClasses {
		out = append(out, ClassLabel(c))
	}
	return out
}

func (db *dashboard) refreshSoon() {
	if db.d.dashVisible.Load() {
		db.d.background(db.d.refreshDashboard)
	}
}

// fetch reads what the dashboard shows. It runs off the main goroutine.
func (db *dashboard) fetch(ctx context.Context, core Core, now time.Time) (dashData, error) {
	sp := dashSpans[db.span.Load()]
	data := dashData{span: sp, now: now, routes: core.Routes(), paused: core.Paused()}
	from := now.Add(-sp.span).Truncate(sp.step)
	var err error
	if data.stats, err = core.Stats(ctx, now.Add(-sp.span), now); err != nil {
		return data, fmt.Errorf("stats: %w", err)
	}
	if data.series, err = core.Series(ctx, from, now, sp.step); err != nil {
		return data, fmt.Errorf("series: %w", err)
	}
	spendFrom := now.Add(-sp.spendSpan).Truncate(sp.spendStep)
	if data.spend, err = core.Series(ctx, spendFrom, now, sp.spendStep); err != nil {
		return data, fmt.Errorf("spend series: %w", err)
	}
	if data.recent, err = core.Recent(ctx, recentLimit); err != nil {
		return data, fmt.Errorf("recent requests: %w", err)
	}
	data.guard = fetchGuard(ctx, core)
	return data, nil
}

// refreshDashboard fetches and applies; the event loop calls it when
// something happened (at most once a second), opening the dashboard and
// its buttons call it at once. One refresh runs at a time: two fetches
// racing would apply in either order, and Fyne's test driver runs
// fyne.Do on the calling goroutine.
func (d *Desktop) refreshDashboard() {
	d.refreshMu.Lock()
	defer d.refreshMu.Unlock()
	ctx, cancel := d.queryCtx()
	defer cancel()
	db := d.currentDash()
	if db == nil {
		return
	}
	data, err := db.fetch(ctx, d.core, d.opts.Now())
	if err != nil {
		d.log.Warn("dashboard", "err", err)
		return
	}
	fyne.DoAndWait(func() {
		if d.dash == db { // not closed meanwhile
			db.apply(data)
		}
	})
}

// apply shows data. Main goroutine only.
func (db *dashboard) apply(data dashData) {
	st := data.stats
	if data.paused {
		db.status.SetText(lang.L("Ferry is paused: API requests get 503 until you resume."))
		db.pauseBtn.SetText(lang.L("Resume Ferry"))
	} else {
		db.status.SetText(lang.L("Listening on {{.URL}}", map[string]any{"URL": db.d.core.BaseURL()}))
		db.pauseBtn.SetText(lang.L("Pause Ferry"))
	}
	db.requests.SetText(strconv.FormatInt(st.Requests, 10))
	db.success.SetText(FormatPercent(st.SuccessRate()))
	db.today.SetText(FormatUSD(st.SpendToday))
	db.month.SetText(FormatUSD(st.SpendMonth))
	db.headroom.SetText(HeadroomText(st.Headroom))
	db.byModel.SetText(BreakdownText(st.ByModel))
	db.byRoute.SetText(BreakdownText(st.ByRoute))
	db.byError.SetText(ErrorTypesText(st.ErrorsByType))

	c := ShapeCharts(data.series, data.span.step, data.spend, data.span.spendStep)
	db.reqChart.SetData(c.Times, c.Requests)
	db.tokChart.SetData(c.Times, c.Tokens)
	db.latFirst.SetData(c.Times, c.FirstToken)
	db.latTotal.SetData(c.Times, c.Total)
	db.costChart.Unit = c.SpendUnit
	db.costChart.SetData(c.SpendTimes, c.Spend)
	db.content.apply(st, data.series, data.span.step)
	db.guard.apply(data.guard, data.now)

	db.all = data.recent
	models := ModelOptions(data.recent)
	if !slices.Equal(models, db.modelSel.Options) {
		sel := db.modelSel.Selected
		db.modelSel.SetOptions(models)
		if !slices.Contains(models, sel) {
			sel = models[0]
		}
		db.modelSel.Selected = sel
		db.modelSel.Refresh()
	}
	db.filter()
	db.showRoutes(data.routes)
}

// filter applies the model and status filters to the table.
func (db *dashboard) filter() {
	if db.table == nil {
		return
	}
	model := ""
	if db.modelSel.SelectedIndex() > 0 {
		model = db.modelSel.Selected
	}
	status := db.statusSel.SelectedIndex()
	db.shown = FilterRecords(db.shown[:0], db.all, model, status)
	db.table.Refresh()
}

func tableHeaders() []string {
	return []string{lang.L("Time"), lang.L("Model"), lang.L("Route"), lang.L("Status"), lang.L("Tokens in / out"), lang.L("Latency"), lang.L("Cost"), lang.L("Tries")}
}

// RecordCells is one table row.
func RecordCells(r storage.Record) []string {
	status := strconv.Itoa(r.Status)
	if r.ErrorType != "" {
		status += " " + r.ErrorType
	}
	cost := FormatUSD(r.CostUSD)
	if !r.PriceKnown && r.ErrorClass == storage.ClassNone {
		cost = lang.L("price unknown")
	}
	tokens := FormatCount(float64(r.Tokens.Prompt())) + " / " + FormatCount(float64(r.Tokens.Output))
	return []string{r.Time.Local().Format("01-02 15:04:05"), r.Model, r.Route, status, tokens, FormatMS(r.Total), cost, AttemptsCell(r)}
}

func (db *dashboard) newTable() *widget.Table {
	headers := tableHeaders()
	widths := []float32{130, 190, 110, 150, 110, 80, 90, 50}
	t := widget.NewTableWithHeaders(
		func() (int, int) { return len(db.shown), len(headers) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(db.shown) {
				o.(*widget.Label).SetText(RecordCells(db.shown[id.Row])[id.Col])
			}
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(headers[id.Col])
			o.(*widget.Label).TextStyle.Bold = true
		}
	}
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(db.shown) {
			db.showDetails(db.shown[id.Row])
		}
		t.UnselectAll()
	}
	return t
}

// RecordDetails are the label/value pairs of a record's details.
func RecordDetails(r storage.Record) [][2]string {
	ms := func(d time.Duration) string {
		if d == 0 {
			return "–"
		}
		return FormatMS(d)
	}
	out := [][2]string{
		{lang.L("Time"), r.Time.Local().Format("2006-01-02 15:04:05.000")},
		{lang.L("Request"), r.Method + " " + r.Path},
		{lang.L("Model"), r.Model},
		{lang.L("Streamed"), yesNo(r.Stream)},
		{lang.L("Status"), strconv.Itoa(r.Status)},
		{lang.L("Error"), errorText(r)},
		{lang.L("Route"), r.Route},
		{lang.L("Client"), r.Client},
		{lang.L("Request ID"), r.RequestID},
		{lang.L("Input tokens"), strconv.FormatInt(r.Tokens.Input, 10)},
		{lang.L("Output tokens"), strconv.FormatInt(r.Tokens.Output, 10)},
		{lang.L("Cache write tokens (5 min / 1 h)"), strconv.FormatInt(r.Tokens.CacheWrite5m, 10) + " / " + strconv.FormatInt(r.Tokens.CacheWrite1h, 10)},
		{lang.L("Cache read tokens"), strconv.FormatInt(r.Tokens.CacheRead, 10)},
		{lang.L("First byte"), ms(r.FirstByte)},
		{lang.L("First token"), ms(r.FirstToken)},
		{lang.L("Total"), ms(r.Total)},
		{lang.L("Tokens per second"), strconv.FormatFloat(r.TokensPerSec, 'f', 1, 64)},
		{lang.L("Cost"), RecordCells(r)[6]},
		{lang.L("Price row"), r.PriceRow},
		{lang.L("Bytes in / out"), strconv.FormatInt(r.BytesIn, 10) + " / " + strconv.FormatInt(r.BytesOut, 10)},
	}
	out = append(out, AttemptDetails(r)...)
	return append(out, ContentDetails(r)...)
}

func errorText(r storage.Record) string {
	if r.ErrorClass == storage.ClassNone {
		return "–"
	}
	return ClassLabel(r.ErrorClass) + ": " + r.ErrorType
}

func yesNo(b bool) string {
	if b {
		return lang.L("yes")
	}
	return lang.L("no")
}

func (db *dashboard) showDetails(r storage.Record) {
	form := widget.NewForm()
	for _, kv := range RecordDetails(r) {
		v := widget.NewLabel(kv[1])
		v.Wrapping = fyne.TextWrapBreak
		form.Append(kv[0], v)
	}
	w := db.d.dashWin
	dlg := dialog.NewCustom(lang.L("Request details"), lang.L("Close"), container.NewVScroll(form), w)
	dlg.Resize(fyne.NewSize(520, 560))
	dlg.Show()
}

// showRoutes rebuilds the route health list.
func (db *dashboard) showRoutes(routes []RouteStatus) {
	var rows []fyne.CanvasObject
	for _, r := range routes {
		name := widget.NewLabel(r.Name)
		name.TextStyle.Bold = true
		state := RouteLabel(r)
		if r.Current {
			state += " — " + lang.L("serving requests")
		}
		status := widget.NewLabel(state)
		if r.Checked && !r.Up {
			status.Importance = widget.DangerImportance
		}
		spark := NewSparkline()
		var times []time.Time
		var vals []float64
		col := Palette[3]
		for i, h := range r.History {
			times = append(times, data0.Add(time.Duration(i)*time.Second))
			v := float64(h) / float64(time.Millisecond)
			if h == 0 {
				v = math.NaN() // failed probe: a gap and a red mark
			}
			vals = append(vals, v)
		}
		if r.Checked && !r.Up {
			col = Palette[2]
		}
		spark.SetData(times, []ChartSeries{{Name: r.Name, Color: col, Values: vals}})
		url := widget.NewLabel(r.URL)
		url.Importance = widget.LowImportance
		row := []fyne.CanvasObject{container.NewBorder(nil, nil, container.NewHBox(name, url), spark, status)}
		if r.Err != "" {
			e := widget.NewLabel(lang.L("Last error: {{.Err}}", map[string]any{"Err": r.Err}))
			e.Wrapping = fyne.TextWrapWord
			e.Importance = widget.DangerImportance
			row = append(row, e)
		}
		rows = append(rows, container.NewVBox(row...), widget.NewSeparator())
	}
	if len(routes) == 0 {
		rows = append(rows, widget.NewLabel(lang.L("No routes yet: add one in Settings > Routes.")))
	}
	db.routesBox.Objects = rows
	db.routesBox.Refresh()
}

// data0 anchors sparkline x positions; only their order matters.
var data0 = time.Unix(0, 0)

// showDashboard opens or raises the dashboard. Main goroutine only.
// Closing it destroys it; the last window closed ends the window process
// (without a tray, that quits Ferry).
func (d *Desktop) showDashboard() {
	if d.dashWin == nil {
		d.setDash(newDashboard(d, d.opts.Main))
		w := d.app.NewWindow(lang.L("Ferry dashboard"))
		closeShortcut(w)
		w.SetContent(d.dash.root)
		w.Resize(fyne.NewSize(960, 680))
		w.SetOnClosed(func() {
			d.dashVisible.Store(false)
			d.dashWin = nil
			d.setDash(nil)
			if d.opts.Main {
				// Ferry's main window: closing it quits, whatever else is open.
				d.Quit()
				return
			}
			d.closed()
		})
		d.dashWin = w
	}
	d.dashVisible.Store(true)
	d.dashWin.Show()
	d.dashWin.RequestFocus()
	d.dash.refreshSoon()
}

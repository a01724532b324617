package ui

import (
	"math"
	"slices"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The "Budgets and limits" settings page (issue 12): the budgets with
// what is spent of each, the rate limits and the queue, the subscription
// quota, and the runaway brake. Each section reads the core when the page
// opens and after each change.

// allowFor is how long "Allow one more hour" lifts the hard caps.
const allowFor = time.Hour

func (d *Desktop) spendPage(w fyne.Window) fyne.CanvasObject {
	budgets := container.NewVBox()
	var showBudgets func()
	showBudgets = func() { d.fillBudgets(w, budgets, showBudgets) }
	showBudgets()

	limits := widget.NewLabel("")
	limits.Wrapping = fyne.TextWrapWord
	showLimits := func() {
		ctx, cancel := d.queryCtx()
		defer cancel()
		l, err := d.core.Limits(ctx)
		if err != nil {
			limits.SetText(err.Error())
			return
		}
		limits.SetText(LimitsLine(l))
	}
	showLimits()
	limitKnobs := d.newKnobEditor(w, "limit.")

	quota := container.NewVBox()
	d.fillQuota(quota)

	brake := container.NewVBox()
	var showBrake func()
	showBrake = func() { d.fillBrake(w, brake, showBrake) }
	showBrake()
	brakeKnobs := d.newKnobEditor(w, "brake.")
	// The display currency (amounts also shown in, say, CNY) and the zone
	// budget days and months are counted in.
	displayKnobs := d.newKnobEditor(w, "display.", "budget.")

	reread := func() {
		showBudgets()
		showLimits()
		d.fillQuota(quota)
		showBrake()
	}
	d.followLive(reread)
	refresh := widget.NewButtonWithIcon(lang.L("Refresh"), theme.ViewRefreshIcon(), reread)
	return container.NewVScroll(container.NewVBox(
		container.NewHBox(refresh),
		widget.NewCard(lang.L("Budgets"), "", container.NewVBox(
			hint(lang.L("A budget alerts at 80%, 95% and 100%. A hard cap also refuses new requests until the period ends; requests already running finish.")),
			budgets)),
		widget.NewCard(lang.L("Rate limits and queue"), "", container.NewVBox(
			limits, hint(lang.L("Per API key, to Anthropic's Messages API. Over a rate limit a request gets 429 with retry-after; over the concurrency limit it waits its turn.")),
			limitKnobs.object())),
		widget.NewCard(lang.L("Subscription quota"), "", container.NewVBox(
			hint(lang.L("Read from Anthropic's answers to Claude Code on a Pro or Max plan; Ferry makes no calls of its own.")),
			quota)),
		widget.NewCard(lang.L("Runaway brake"), "", container.NewVBox(brake, brakeKnobs.object())),
		widget.NewCard(lang.L("Currency and time zone"), "", displayKnobs.object()),
	))
}

// fillBudgets shows every budget set, with Add and "Allow one more hour".
func (d *Desktop) fillBudgets(w fyne.Window, box *fyne.Container, again func()) {
	ctx, cancel := d.queryCtx()
	defer cancel()
	v, err := d.core.Budgets(ctx)
	if err != nil {
		showFailure(box, err)
		return
	}
	now := d.opts.Now()
	var rows []fyne.CanvasObject
	var set []string
	hard := false
	for _, b := range v.Budgets {
		b := b
		set = append(set, b.Name)
		hard = hard || b.Mode == coreapi.ModeHard
		title := meterTitle(BudgetTitle(b.Name))
		bar := widget.NewProgressBar()
		bar.SetValue(math.Min(b.Fraction, 1))
		bar.TextFormatter = func() string { return strconv.Itoa(int(math.Round(b.Fraction*100))) + "%" }
		line := widget.NewLabel(BudgetLine(b, v, now))
		line.Wrapping = fyne.TextWrapWord
		edit := widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), func() { d.budgetDialog(w, b.Budget, nil, again) })
		remove := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
			dialog.ShowConfirm(lang.L("Remove budget"), lang.L("Remove the budget “{{.Name}}”?", map[string]any{"Name": BudgetTitle(b.Name)}), func(ok bool) {
				if !ok {
					return
				}
				ctx, cancel := d.queryCtx()
				defer cancel()
				d.showError(d.core.ClearBudget(ctx, b.Name), w)
				d.wake()
				again()
			}, w)
		})
		rows = append(rows, container.NewBorder(nil, nil, title, container.NewHBox(edit, remove), bar), line)
		if b.Refusing {
			r := widget.NewLabel(lang.L("Spent: new requests are refused until {{.Time}}.", map[string]any{"Time": resetsOr(b.Resets, now)}))
			r.Importance = widget.DangerImportance
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel(lang.L("No budgets set.")))
	}
	add := widget.NewButtonWithIcon(lang.L("Add budget"), theme.ContentAddIcon(), func() {
		d.budgetDialog(w, coreapi.Budget{}, set, again)
	})
	if len(set) == len(coreapi.BudgetNames) {
		add.Disable()
	}
	buttons := container.NewHBox(add)
	if hard {
		buttons.Add(widget.NewButton(lang.L("Allow one more hour"), func() {
			ctx, cancel := d.queryCtx()
			defer cancel()
			d.showError(d.core.AllowBudgets(ctx, allowFor), w)
			d.wake()
			again()
		}))
	}
	rows = append(rows, buttons)
	if v.AllowUntil.After(now) {
		rows = append(rows, widget.NewLabel(lang.L("Hard caps are lifted until {{.Time}}.", map[string]any{"Time": ClockTime(v.AllowUntil, now)})))
	}
	box.Objects = rows
	box.Refresh()
}

// resetsOr is when a spent budget frees up: its reset, or "spending
// slows down" for the rate and session budgets, which have no fixed end.
func resetsOr(t, now time.Time) string {
	if t.IsZero() {
		return lang.L("spending slows down")
	}
	return ClockTime(t, now)
}

// budgetDialog adds (b.Name "": one of the names not in set) or edits b.
func (d *Desktop) budgetDialog(w fyne.Window, b coreapi.Budget, set []string, done func()) {
	var names []string
	for _, n := range coreapi.BudgetNames {
		if b.Name == n || b.Name == "" && !slices.Contains(set, n) {
			names = append(names, n)
		}
	}
	var titles []string
	for _, n := range names {
		titles = append(titles, BudgetTitle(n))
	}
	name := widget.NewSelect(titles, nil)
	name.SetSelectedIndex(0)
	if b.Name != "" {
		name.Disable()
	}
	limit := widget.NewEntry()
	if b.Limit > 0 {
		limit.SetText(strconv.FormatFloat(b.Limit, 'f', -1, 64))
	}
	limit.SetPlaceHolder("10")
	modes := []string{lang.L("Hard cap: refuse new requests"), lang.L("Alert only")}
	mode := widget.NewRadioGroup(modes, nil)
	mode.Required = true
	mode.SetSelected(modes[0])
	if b.Mode == coreapi.ModeSoft {
		mode.SetSelected(modes[1])
	}
	bases := []string{lang.L("Billed cost"), lang.L("API-equivalent cost (for subscriptions)")}
	basis := widget.NewSelect(bases, nil)
	basis.SetSelectedIndex(0)
	if b.Basis == coreapi.BasisAPIEquivalent {
		basis.SetSelectedIndex(1)
	}
	unit := hint(lang.L("US dollars; requests for “Requests per day”; dollars a minute for the spend rate."))
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("Budget"), name),
		widget.NewFormItem(lang.L("Limit"), limit),
		widget.NewFormItem("", unit),
		widget.NewFormItem(lang.L("When spent"), mode),
		widget.NewFormItem(lang.L("Counts"), basis),
	}
	title := lang.L("Edit budget")
	if b.Name == "" {
		title = lang.L("Add budget")
	}
	dlg := dialog.NewForm(title, lang.L("Save"), lang.L("Cancel"), items, func(ok bool) {
		if !ok || name.SelectedIndex() < 0 {
			return
		}
		nb, err := ParseBudget(names[name.SelectedIndex()], limit.Text, mode.Selected == modes[0], basis.SelectedIndex() == 1)
		if err == nil {
			ctx, cancel := d.queryCtx()
			defer cancel()
			err = d.core.SetBudget(ctx, nb)
		}
		d.showError(err, w)
		d.wake()
		done()
	}, w)
	dlg.Resize(fyne.NewSize(480, 360))
	dlg.Show()
}

// fillQuota shows each account's windows with their headroom.
func (d *Desktop) fillQuota(box *fyne.Container) {
	ctx, cancel := d.queryCtx()
	defer cancel()
	q, err := d.core.Quota(ctx)
	var rows []fyne.CanvasObject
	switch {
	case err != nil:
		rows = append(rows, widget.NewLabel(err.Error()))
	case len(q.Accounts) == 0:
		l := widget.NewLabel(lang.L("No subscription quota seen yet."))
		rows = append(rows, l)
	}
	now := d.opts.Now()
	for _, a := range q.Accounts {
		head := widget.NewLabel(lang.L("Account {{.Account}}, seen {{.Time}}", map[string]any{"Account": a.Account, "Time": ClockTime(a.Seen, now)}))
		head.TextStyle.Bold = true
		rows = append(rows, head)
		for _, m := range QuotaMeters(coreapi.QuotaView{Accounts: []coreapi.QuotaAccount{a}}, now) {
			rows = append(rows, meterRow(m))
		}
	}
	box.Objects = rows
	box.Refresh()
}

// fillBrake shows the brake's state and the sessions it stopped, each
// with a way to let it go on.
func (d *Desktop) fillBrake(w fyne.Window, box *fyne.Container, again func()) {
	ctx, cancel := d.queryCtx()
	defer cancel()
	b, err := d.core.Brake(ctx)
	if err != nil {
		showFailure(box, err)
		return
	}
	state := widget.NewLabel(BrakeLine(b))
	state.Wrapping = fyne.TextWrapWord
	rows := []fyne.CanvasObject{state}
	now := d.opts.Now()
	for _, s := range b.Stopped {
		s := s
		line := widget.NewLabel(BrakeStopLine(s, now))
		line.Wrapping = fyne.TextWrapWord
		var right fyne.CanvasObject
		if !s.ReleasedUntil.After(now) {
			line.Importance = widget.WarningImportance
			right = widget.NewButton(lang.L("Release for an hour"), func() {
				ctx, cancel := d.queryCtx()
				defer cancel()
				d.showError(d.core.ReleaseBrake(ctx, s.Session), w)
				d.wake()
				again()
			})
		}
		rows = append(rows, container.NewBorder(nil, nil, nil, right, line))
	}
	if len(b.Stopped) == 0 && b.Enabled {
		rows = append(rows, widget.NewLabel(lang.L("No session stopped.")))
	}
	hint := hint(lang.L("A client can also go on by sending the header x-ferry-brake: off, or with: ferry brake release SESSION"))
	box.Objects = append(rows, hint)
	box.Refresh()
}

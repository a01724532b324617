package ui

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The dashboard's "Budgets and quota" card: each budget and quota window
// as a bar, the queue, refusals and stopped sessions under them.

// guardGlance is the spend guard as one dashboard refresh read it.
type guardGlance struct {
	budgets coreapi.BudgetsView
	quota   coreapi.QuotaView
	limits  coreapi.LimitsView
	brake   coreapi.BrakeView
	// err is what could not be read; the rest is shown all the same.
	err error
}

// fetchGuard reads the guard off the main goroutine.
func fetchGuard(ctx context.Context, core Core) guardGlance {
	var g guardGlance
	var errs [4]error
	g.budgets, errs[0] = core.Budgets(ctx)
	g.quota, errs[1] = core.Quota(ctx)
	g.limits, errs[2] = core.Limits(ctx)
	g.brake, errs[3] = core.Brake(ctx)
	g.err = errors.Join(errs[:]...)
	return g
}

type guardCard struct {
	root fyne.CanvasObject
	box  *fyne.Container
}

func newGuardCard() *guardCard {
	c := &guardCard{box: container.NewVBox(widget.NewLabel("–"))}
	c.root = widget.NewCard("", lang.L("Budgets and quota"), c.box)
	return c
}

// titleWidth is the width of a meter's title, so that the bars of one
// card start at the same place.
const titleWidth = 250

// meterTitle is a meter's bold title in titleWidth.
func meterTitle(text string) fyne.CanvasObject {
	title := widget.NewLabel(text)
	title.TextStyle.Bold = true
	title.Truncation = fyne.TextTruncateEllipsis
	return container.New(layout.NewGridWrapLayout(fyne.NewSize(titleWidth, title.MinSize().Height)), title)
}

// meterRow draws a Meter: its title and bar on a line, its text under.
func meterRow(m Meter) fyne.CanvasObject {
	title := meterTitle(m.Title)
	bar := widget.NewProgressBar()
	bar.SetValue(meterValue(m.Fraction))
	f := m.Fraction
	bar.TextFormatter = func() string { return strconv.Itoa(int(math.Round(f*100))) + "%" }
	line := widget.NewLabel(m.Line)
	line.Wrapping = fyne.TextWrapWord
	if m.Danger {
		line.Importance = widget.DangerImportance
	}
	return container.NewVBox(container.NewBorder(nil, nil, title, nil, bar), line)
}

// apply shows g. Main goroutine.
func (c *guardCard) apply(g guardGlance, now time.Time) {
	var rows []fyne.CanvasObject
	for _, m := range append(BudgetMeters(g.budgets, now), QuotaMeters(g.quota, now)...) {
		rows = append(rows, meterRow(m))
	}
	if len(rows) == 0 {
		l := widget.NewLabel(lang.L("No budgets set and no subscription quota seen. Set budgets in Settings › Budgets and limits."))
		l.Wrapping = fyne.TextWrapWord
		rows = append(rows, l)
	}
	if notes := GuardNotes(g.limits, g.brake, now); len(notes) > 0 {
		l := widget.NewLabel(strings.Join(notes, "\n"))
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.WarningImportance
		rows = append(rows, l)
	}
	if g.err != nil {
		l := widget.NewLabel(g.err.Error())
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		rows = append(rows, l)
	}
	c.box.Objects = rows
	c.box.Refresh()
}

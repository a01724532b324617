package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

func TestSpendPageShowsTheGuard(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	_, content := page(t, d, (*Desktop).spendPage)
	for _, want := range []string{
		"Spend per day", "$8.50 of $10.00 (85%) · hard cap · billed cost · resets 00:00",
		"Spend per month", "$41.50 of $100.00 (42%) · alert only · API-equivalent cost",
		"100 requests a minute", "Queue: 3 of 4 upstream, 2 waiting (at most 1 min)", "12 requests waited, 1500 ms on average",
		"7 requests refused by a limit",
		"Account org-0f0e", "5 hours", "42% used · resets 16:20, in 1 h 50 min", "7 days", "63% used",
		"On: a session is stopped after 8 equal tool calls", "Session sess-7f3a, stopped 14:25: the tool Bash returned the same result 8 times",
		"limit.rpm", "Requests per minute per API key", "brake.enabled", "Currency and time zone", "display.currency",
	} {
		if !hasText(content, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	bars := find[*widget.ProgressBar](content)
	if len(bars) != 4 || bars[0].Value != 0.85 || bars[2].Value != 0.42 {
		t.Errorf("progress bars: %d", len(bars))
	}

	findButton(t, content, "Release for an hour").OnTapped()
	if got := lastCall(core); got != "ReleaseBrake sess-7f3a" {
		t.Fatalf("release: %q", got)
	}
	if !hasText(content, "released until 15:30") || hasText(content, "Release for an hour") {
		t.Errorf("release not shown: %q", texts(content))
	}

	findButton(t, content, "Allow one more hour").OnTapped()
	if got := lastCall(core); got != "AllowBudgets 1h0m0s" {
		t.Fatalf("allow: %q", got)
	}
	if !hasText(content, "Hard caps are lifted until 15:30.") {
		t.Error("allowance not shown")
	}
}

func TestSpendPageEditsBudgets(t *testing.T) {
	core := newFakeCore()
	core.guard.budgets[0].Refusing = true
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).spendPage)
	if !hasText(content, "Spent: new requests are refused until 00:00.") {
		t.Error("a refusing budget is not marked")
	}

	findButton(t, content, "Add budget").OnTapped()
	dlg := overlay(t, w)
	sel := find[*widget.Select](dlg)
	// Only the budgets not set yet are offered.
	if want := []string{"Requests per day", "Spend per Claude Code session", "Spend rate (last 5 minutes)"}; !slices.Equal(sel[0].Options, want) {
		t.Fatalf("names offered = %q", sel[0].Options)
	}
	find[*widget.Entry](dlg)[0].SetText("12.5")
	findButton(t, dlg, "Save").OnTapped()
	if hasText(overlay(t, w), "whole number of requests") == false {
		t.Error("fractional request count not explained")
	}
	if strings.HasPrefix(lastCall(core), "SetBudget") {
		t.Fatalf("bad budget sent: %q", lastCall(core))
	}
	findButton(t, overlay(t, w), "OK").OnTapped()

	findButton(t, content, "Add budget").OnTapped()
	dlg = overlay(t, w)
	find[*widget.Select](dlg)[0].SetSelectedIndex(1)
	find[*widget.Entry](dlg)[0].SetText("$2")
	find[*widget.RadioGroup](dlg)[0].SetSelected("Alert only")
	find[*widget.Select](dlg)[1].SetSelectedIndex(1)
	findButton(t, dlg, "Save").OnTapped()
	if got := lastCall(core); got != "SetBudget session 2 soft api_equivalent" {
		t.Fatalf("add budget: %q", got)
	}
	if !hasText(content, "Spend per Claude Code session") {
		t.Error("new budget not listed")
	}

	var icons []*widget.Button
	for _, b := range find[*widget.Button](content) {
		if b.Text == "" && b.Icon != nil && b.Icon.Name() != "view-refresh.svg" {
			icons = append(icons, b)
		}
	}
	if len(icons) < 6 {
		t.Fatalf("icon buttons = %d", len(icons))
	}
	icons[0].OnTapped() // edit the daily budget
	dlg = overlay(t, w)
	if e := find[*widget.Entry](dlg)[0]; e.Text != "10" {
		t.Errorf("edit shows limit %q", e.Text)
	}
	find[*widget.Entry](dlg)[0].SetText("20")
	findButton(t, dlg, "Save").OnTapped()
	if got := lastCall(core); got != "SetBudget daily 20 hard billed" {
		t.Fatalf("edit budget: %q", got)
	}
	icons = icons[:0]
	for _, b := range find[*widget.Button](content) {
		if b.Text == "" && b.Icon != nil && b.Icon.Name() != "view-refresh.svg" {
			icons = append(icons, b)
		}
	}
	icons[1].OnTapped() // remove the daily budget
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if got := lastCall(core); got != "ClearBudget daily" {
		t.Fatalf("remove budget: %q", got)
	}
	if hasText(content, "Spend per day") {
		t.Error("removed budget still listed")
	}
}

func TestKnobEditorSavesWhatChanged(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).spendPage)
	entries := find[*widget.Entry](content)
	var rpm *widget.Entry
	for _, e := range entries {
		if e.Text == "100" {
			rpm = e
		}
	}
	if rpm == nil {
		t.Fatal("no limit.rpm entry")
	}
	rpm.SetText("50")
	saves := 0
	for _, b := range find[*widget.Button](content) {
		if b.Text == "Save" && saves == 0 {
			b.OnTapped()
			saves++
		}
	}
	if got := lastCall(core); got != "SetKnob limit.rpm 50" {
		t.Fatalf("save: %q (calls %q)", got, core.Calls())
	}
	for _, e := range find[*widget.Entry](content) {
		if e.Text == "4" { // limit.concurrency
			e.SetText("many")
		}
	}
	findButton(t, content, "Save").OnTapped()
	if !hasText(overlay(t, w), "an integer, from 0 to 10000") {
		t.Error("refused value not explained")
	}
	if got := lastCall(core); got != "SetKnob limit.rpm 50" {
		t.Fatalf("bad value stored: %q", got)
	}
	findButton(t, overlay(t, w), "OK").OnTapped()

	// A stored knob (limit.rpm, just saved) has a button back to its
	// default.
	for _, b := range find[*widget.Button](content) {
		if b.Icon != nil && b.Icon.Name() == theme.ContentUndoIcon().Name() {
			b.OnTapped()
			break
		}
	}
	if got := lastCall(core); got != "ResetKnob limit.rpm" {
		t.Fatalf("reset: %q", got)
	}
}

func TestSpendTexts(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.Local)
	view := coreapi.BudgetsView{Currency: "CNY", PerUSD: 7.2}
	if got := BudgetAmount(coreapi.BudgetDaily, 10, view); got != "$10.00 (CNY 72.00)" {
		t.Errorf("display currency: %q", got)
	}
	if got := BudgetAmount(coreapi.BudgetRate, 0.5, coreapi.BudgetsView{}); got != "$0.50 a minute" {
		t.Errorf("rate: %q", got)
	}
	if got := BudgetAmount(coreapi.BudgetRequestsDaily, 1200, view); got != "1200 requests" {
		t.Errorf("requests: %q", got)
	}
	for d, want := range map[time.Duration]string{
		20 * time.Second: "under a minute", 5 * time.Minute: "5 min", 110 * time.Minute: "1 h 50 min", 74 * time.Hour: "3 d 2 h",
	} {
		if got := Countdown(d); got != want {
			t.Errorf("Countdown(%v) = %q, want %q", d, got, want)
		}
	}
	if got := ClockTime(now.Add(48*time.Hour), now); got != "Fri 14:30" {
		t.Errorf("another day: %q", got)
	}
	for name, want := range map[string]string{"5h": "5 hours", "7d": "7 days", "7d-sonnet": "7 days (sonnet)", "1m": "1m"} {
		if got := QuotaWindowName(name); got != want {
			t.Errorf("QuotaWindowName(%q) = %q", name, got)
		}
	}
	if got := QuotaWindowLine(coreapi.QuotaWindow{Utilization: 1, Status: "rejected", Reset: now.Add(30 * time.Minute)}, now); got != "100% used · exhausted · resets 15:00, in 30 min" {
		t.Errorf("exhausted window: %q", got)
	}
	if got := LimitsLine(coreapi.LimitsView{}); got != "No rate limit\nNo concurrency limit: requests never wait in a queue." {
		t.Errorf("no limits: %q", got)
	}
	if got := BrakeLine(coreapi.BrakeView{}); !strings.HasPrefix(got, "Off") {
		t.Errorf("brake off: %q", got)
	}
	if got := BrakeStopLine(coreapi.BrakeStop{Session: "s1", At: now, Reason: "repeated_request", Repeats: 8}, now); got != "Session s1, stopped 14:30: the same request came 8 times" {
		t.Errorf("repeated request: %q", got)
	}

	for _, c := range []struct {
		name, limit string
		ok          bool
	}{
		{coreapi.BudgetDaily, "5", true}, {coreapi.BudgetDaily, "$0.50", true}, {coreapi.BudgetDaily, "0", false},
		{coreapi.BudgetDaily, "-1", false}, {coreapi.BudgetDaily, "five", false}, {coreapi.BudgetDaily, "NaN", false},
		{coreapi.BudgetRequestsDaily, "1000", true}, {coreapi.BudgetRequestsDaily, "10.5", false},
	} {
		b, err := ParseBudget(c.name, c.limit, true, false)
		if (err == nil) != c.ok {
			t.Errorf("ParseBudget(%s, %q): %v", c.name, c.limit, err)
		}
		if err == nil && (b.Mode != coreapi.ModeHard || b.Basis != coreapi.BasisBilled) {
			t.Errorf("mode/basis: %+v", b)
		}
	}
}

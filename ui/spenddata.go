package ui

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The spend guard's figures as people read them: pure functions of what
// the core returned, shared by the "Budgets and limits" page and the
// dashboard, and tested without widgets.

// BudgetTitle names a budget.
func BudgetTitle(name string) string {
	switch name {
	case coreapi.BudgetDaily:
		return lang.L("Spend per day")
	case coreapi.BudgetMonthly:
		return lang.L("Spend per month")
	case coreapi.BudgetRequestsDaily:
		return lang.L("Requests per day")
	case coreapi.BudgetSession:
		return lang.L("Spend per Claude Code session")
	case coreapi.BudgetRate:
		return lang.L("Spend rate (last 5 minutes)")
	}
	return name
}

// BudgetAmount writes an amount of budget name: dollars, dollars a
// minute for the rate, a count for requests; with the display currency
// beside dollars when one is set.
func BudgetAmount(name string, v float64, view coreapi.BudgetsView) string {
	if name == coreapi.BudgetRequestsDaily {
		return lang.L("{{.N}} requests", map[string]any{"N": strconv.FormatInt(int64(math.Round(v)), 10)})
	}
	s := FormatUSD(v)
	if view.Currency != "" && view.Currency != "USD" && view.PerUSD > 0 {
		s += " (" + view.Currency + " " + strconv.FormatFloat(v*view.PerUSD, 'f', 2, 64) + ")"
	}
	if name == coreapi.BudgetRate {
		s = lang.L("{{.Amount}} a minute", map[string]any{"Amount": s})
	}
	return s
}

// ModeText names a budget's mode.
func ModeText(mode string) string {
	if mode == coreapi.ModeSoft {
		return lang.L("alert only")
	}
	return lang.L("hard cap")
}

// BasisText names a budget's basis.
func BasisText(basis string) string {
	if basis == coreapi.BasisAPIEquivalent {
		return lang.L("API-equivalent cost")
	}
	return lang.L("billed cost")
}

// BudgetLine is one budget's state: "$8.50 of $10.00 (85%) · hard cap ·
// billed cost · resets 00:00", and what it does when spent.
func BudgetLine(b coreapi.BudgetStatus, view coreapi.BudgetsView, now time.Time) string {
	parts := []string{lang.L("{{.Spent}} of {{.Limit}} ({{.Percent}})", map[string]any{
		"Spent": BudgetAmount(b.Name, b.Spent, view), "Limit": BudgetAmount(b.Name, b.Limit, view),
		"Percent": strconv.Itoa(int(math.Round(b.Fraction*100))) + "%",
	}), ModeText(b.Mode), BasisText(b.Basis)}
	if !b.Resets.IsZero() {
		parts = append(parts, lang.L("resets {{.Time}}", map[string]any{"Time": ClockTime(b.Resets, now)}))
	}
	if b.Refused > 0 {
		parts = append(parts, lang.L("{{.N}} refused", map[string]any{"N": b.Refused}))
	}
	return strings.Join(parts, " · ")
}

// ClockTime shows t as a local clock time, with the weekday unless it is
// today or within the next 24 hours (a reset at 00:00 reads as the coming
// midnight).
func ClockTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() || t.After(now) && t.Sub(now) < 24*time.Hour {
		return t.Format("15:04")
	}
	return t.Format("Mon 15:04")
}

// Countdown shows a time left in whole minutes: "1 h 50 min", "3 d 2 h",
// "under a minute".
func Countdown(d time.Duration) string {
	m := int64(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return lang.L("under a minute")
	case m < 60:
		return lang.L("{{.M}} min", map[string]any{"M": m})
	case m < 24*60:
		return lang.L("{{.H}} h {{.M}} min", map[string]any{"H": m / 60, "M": m % 60})
	default:
		return lang.L("{{.D}} d {{.H}} h", map[string]any{"D": m / (24 * 60), "H": m % (24 * 60) / 60})
	}
}

// QuotaWindowName names a quota window: "5 hours", "7 days", "7 days
// (sonnet)".
func QuotaWindowName(name string) string {
	base, model, _ := strings.Cut(name, "-")
	var s string
	switch base {
	case "5h":
		s = lang.L("5 hours")
	case "7d":
		s = lang.L("7 days")
	default:
		return name
	}
	if model != "" {
		s += " (" + model + ")"
	}
	return s
}

// QuotaWindowLine is a window's headroom: "42% used · resets 16:20, in
// 1 h 50 min".
func QuotaWindowLine(w coreapi.QuotaWindow, now time.Time) string {
	s := lang.L("{{.Percent}} used", map[string]any{"Percent": strconv.Itoa(int(math.Round(w.Utilization*100))) + "%"})
	if w.Status == "rejected" {
		s += " · " + lang.L("exhausted")
	}
	if !w.Reset.IsZero() {
		s += " · " + lang.L("resets {{.Time}}, in {{.Left}}", map[string]any{"Time": ClockTime(w.Reset, now), "Left": Countdown(w.Reset.Sub(now))})
	}
	return s
}

// LimitsLine is the limits in force and the queue now.
func LimitsLine(l coreapi.LimitsView) string {
	var parts []string
	if l.RPM > 0 {
		parts = append(parts, lang.L("{{.N}} requests a minute", map[string]any{"N": l.RPM}))
	}
	if l.ITPM > 0 {
		parts = append(parts, lang.L("{{.N}} input tokens a minute", map[string]any{"N": FormatCount(float64(l.ITPM))}))
	}
	if l.OTPM > 0 {
		parts = append(parts, lang.L("{{.N}} output tokens a minute", map[string]any{"N": FormatCount(float64(l.OTPM))}))
	}
	if len(parts) == 0 {
		parts = append(parts, lang.L("No rate limit"))
	}
	s := strings.Join(parts, " · ")
	if l.Concurrency > 0 {
		s += "\n" + lang.L("Queue: {{.InUse}} of {{.Limit}} upstream, {{.Waiting}} waiting (at most {{.Wait}})", map[string]any{
			"InUse": l.InUse, "Limit": l.Concurrency, "Waiting": l.Waiting, "Wait": Countdown(l.QueueWait)})
	} else {
		s += "\n" + lang.L("No concurrency limit: requests never wait in a queue.")
	}
	if l.Waited > 0 {
		s += "\n" + lang.L("{{.N}} requests waited, {{.Wait}} on average", map[string]any{
			"N": l.Waited, "Wait": FormatMS(l.WaitedTotal / time.Duration(l.Waited))})
	}
	var refused uint64
	for _, n := range l.Refused {
		refused += n
	}
	if refused > 0 {
		s += "\n" + lang.L("{{.N}} requests refused by a limit since Ferry started", map[string]any{"N": refused})
	}
	return s
}

// BrakeLine says what the runaway brake does.
func BrakeLine(b coreapi.BrakeView) string {
	if !b.Enabled {
		return lang.L("Off: looping agents are not stopped.")
	}
	return lang.L("On: a session is stopped after {{.N}} equal tool calls with equal results, or {{.N}} repeats of one request within {{.Window}}.", map[string]any{
		"N": b.Repeats, "Window": Countdown(b.Window)})
}

// BrakeStopLine describes a stopped session.
func BrakeStopLine(s coreapi.BrakeStop, now time.Time) string {
	var why string
	if s.Reason == "tool_loop" && s.Tool != "" {
		why = lang.L("the tool {{.Tool}} returned the same result {{.N}} times", map[string]any{"Tool": s.Tool, "N": s.Repeats})
	} else {
		why = lang.L("the same request came {{.N}} times", map[string]any{"N": s.Repeats})
	}
	line := lang.L("Session {{.Session}}, stopped {{.Time}}: {{.Why}}", map[string]any{"Session": s.Session, "Time": ClockTime(s.At, now), "Why": why})
	if s.ReleasedUntil.After(now) {
		line += " · " + lang.L("released until {{.Time}}", map[string]any{"Time": ClockTime(s.ReleasedUntil, now)})
	}
	return line
}

// ParseBudget checks and converts the budget form's fields: the limit is
// a positive number (of dollars, or whole requests for the daily request
// count), with or without a leading "$".
func ParseBudget(name, limit string, hard, apiEquivalent bool) (coreapi.Budget, error) {
	b := coreapi.Budget{Name: name, Mode: coreapi.ModeSoft, Basis: coreapi.BasisBilled}
	if hard {
		b.Mode = coreapi.ModeHard
	}
	if apiEquivalent {
		b.Basis = coreapi.BasisAPIEquivalent
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(limit), "$"), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) || v > 1e9 {
		return b, errors.New(lang.L("the limit must be a number greater than 0"))
	}
	if name == coreapi.BudgetRequestsDaily && v != math.Trunc(v) {
		return b, errors.New(lang.L("the limit must be a whole number of requests"))
	}
	b.Limit = v
	return b, nil
}

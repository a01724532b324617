package tray

import (
	"math"
	"slices"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The spend guard in the tray (issue 12): the status line's first item
// (a budget at 80% or more, else the subscription quota), "Allow one more
// hour" while a hard cap refuses requests, "Release brake" for the
// sessions the runaway brake stopped, and the attention icon.

// GuardCore is the spend guard as the tray reads and changes it,
// in-process. Reads must not block: the tray calls them on every rebuild.
type GuardCore interface {
	Budgets() coreapi.BudgetsView
	Quota() coreapi.QuotaView
	Brake() coreapi.BrakeView
	// AllowBudgets lifts every hard cap for d.
	AllowBudgets(d time.Duration) error
	// ReleaseBrake lets a stopped session go on for an hour.
	ReleaseBrake(session string) error
}

// AllowFor is how long the tray's "Allow one more hour" lifts hard caps.
const AllowFor = time.Hour

// alertPercent is the level from which a budget or a quota window takes
// the status line's first place and the icon: the guard's first alert.
const alertPercent = 80

// Guard is what the tray shows of the spend guard; comparable with equal
// so that an unchanged guard does not rebuild the menu.
type Guard struct {
	// Budget names the budget closest to its limit once it is at
	// alertPercent or more ("" when none is), BudgetPct its percentage.
	Budget    string
	BudgetPct int
	// Refusing: a hard budget is spent and refuses new requests.
	Refusing bool
	// AllowUntil is the end of an allowance in force, "15:04"; "" none.
	AllowUntil string
	// Quota5h and Quota7d are the latest account's windows in percent,
	// when Has5h and Has7d say they were seen; QuotaReset is the 5-hour
	// window's reset, "15:04".
	Quota5h, Quota7d int
	Has5h, Has7d     bool
	QuotaReset       string
	// Stopped are the sessions the brake holds (not released).
	Stopped []string
}

func (g Guard) equal(o Guard) bool {
	return g.Budget == o.Budget && g.BudgetPct == o.BudgetPct && g.Refusing == o.Refusing && g.AllowUntil == o.AllowUntil &&
		g.Quota5h == o.Quota5h && g.Quota7d == o.Quota7d && g.Has5h == o.Has5h && g.Has7d == o.Has7d &&
		g.QuotaReset == o.QuotaReset && slices.Equal(g.Stopped, o.Stopped)
}

// attention reports whether the guard wants the attention icon.
func (g Guard) attention() bool {
	return g.Budget != "" || g.Has5h && g.Quota5h >= alertPercent || g.Has7d && g.Quota7d >= alertPercent || len(g.Stopped) > 0
}

func pct(f float64) int { return int(math.Round(f * 100)) }

// GuardFrom reads the tray's Guard from the core's views; times in loc.
func GuardFrom(b coreapi.BudgetsView, q coreapi.QuotaView, br coreapi.BrakeView, now time.Time, loc *time.Location) Guard {
	var g Guard
	top := -1.0
	for _, s := range b.Budgets {
		g.Refusing = g.Refusing || s.Refusing
		if pct(s.Fraction) >= alertPercent && s.Fraction > top {
			top, g.Budget, g.BudgetPct = s.Fraction, s.Name, pct(s.Fraction)
		}
	}
	if b.AllowUntil.After(now) {
		g.AllowUntil = b.AllowUntil.In(loc).Format("15:04")
	}
	if len(q.Accounts) > 0 {
		a := q.Accounts[0]
		if w, ok := a.Window("5h"); ok {
			g.Quota5h, g.Has5h = pct(w.Utilization), true
			if !w.Reset.IsZero() {
				g.QuotaReset = w.Reset.In(loc).Format("15:04")
			}
		}
		if w, ok := a.Window("7d"); ok {
			g.Quota7d, g.Has7d = pct(w.Utilization), true
		}
	}
	for _, s := range br.Stopped {
		if !s.ReleasedUntil.After(now) {
			g.Stopped = append(g.Stopped, s.Session)
		}
	}
	return g
}

// GuardItem is the status line's first item: a budget at 80% or more,
// else the subscription quota ("5h 42% · resets 16:20 · week 63%"); ""
// when there is neither.
func GuardItem(lang string, g Guard) string {
	switch {
	case g.Budget != "" && g.BudgetPct >= 100 && g.Refusing:
		return i18n.Tf(lang, "Budget {{.Budget}} spent: requests refused", map[string]any{"Budget": g.Budget})
	case g.Budget != "":
		return i18n.Tf(lang, "Budget {{.Budget}} at {{.Percent}}%", map[string]any{"Budget": g.Budget, "Percent": g.BudgetPct})
	}
	var s string
	if g.Has5h {
		s = i18n.Tf(lang, "5h {{.Percent}}%", map[string]any{"Percent": g.Quota5h})
		if g.QuotaReset != "" {
			s += " · " + i18n.Tf(lang, "resets {{.Time}}", map[string]any{"Time": g.QuotaReset})
		}
	}
	if g.Has7d {
		if s != "" {
			s += " · "
		}
		s += i18n.Tf(lang, "week {{.Percent}}%", map[string]any{"Percent": g.Quota7d})
	}
	return s
}

// guardItems are the menu's guard entries under the status line.
func guardItems(lang string, g Guard, a Actions) []Item {
	var out []Item
	if g.Refusing && g.AllowUntil == "" {
		out = append(out, Item{Label: i18n.T(lang, "Allow one more hour"), Do: a.AllowOneHour})
	}
	if g.AllowUntil != "" {
		out = append(out, Item{Label: i18n.Tf(lang, "Hard caps are lifted until {{.Time}}.", map[string]any{"Time": g.AllowUntil}), Disabled: true})
	}
	if len(g.Stopped) > 0 {
		var sessions []Item
		for _, s := range g.Stopped {
			it := Item{Label: shortSession(s)}
			if a.ReleaseBrake != nil {
				s := s
				it.Do = func() { a.ReleaseBrake(s) }
			}
			sessions = append(sessions, it)
		}
		out = append(out, Item{Label: i18n.T(lang, "Release brake for an hour"), Children: sessions})
	}
	return out
}

// shortSession shortens a session id (a UUID) for a menu label.
func shortSession(s string) string {
	if len(s) > 13 {
		return s[:12] + "…"
	}
	return s
}

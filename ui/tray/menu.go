package tray

import (
	"math"
	"slices"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// Route is one route as the tray shows it.
type Route struct {
	Name    string
	Checked bool // probed at least once
	Up      bool
	// LatencyMS is rounded to whole milliseconds so that jitter below a
	// millisecond does not rebuild the menu.
	LatencyMS int64
}

// State is everything the tray menu and icon show. The menu is rebuilt
// only when Equal says something visible changed.
type State struct {
	// Lang is the language tag of the labels (i18n.Resolve of the stored
	// choice).
	Lang   string
	Paused bool
	Routes []Route
	// Choice is a route name or coreapi.AutoChoice.
	Choice string
	// Current is the route serving the next request ("" when none).
	Current string
	// SpendCents and RequestsToday are today's totals (local time).
	SpendCents    int64
	RequestsToday int64
	StartAtLogin  bool
	// WindowsStopped is set when the window process crashed too often
	// and is no longer restarted by itself.
	WindowsStopped bool
	// Guard is the spend guard (guard.go).
	Guard Guard
	// CacheOff is set while the dedup cache does not answer (turned off,
	// or its store failed): every duplicate is paid for again.
	CacheOff bool
}

// Equal reports whether two states show the same menu.
func (s State) Equal(o State) bool {
	return s.Lang == o.Lang && s.Paused == o.Paused && s.Choice == o.Choice && s.Current == o.Current &&
		s.SpendCents == o.SpendCents && s.RequestsToday == o.RequestsToday &&
		s.StartAtLogin == o.StartAtLogin && s.WindowsStopped == o.WindowsStopped && slices.Equal(s.Routes, o.Routes) &&
		s.Guard.equal(o.Guard) && s.CacheOff == o.CacheOff
}

// IconState is which tray icon to show.
type IconState int

const (
	IconRunning IconState = iota
	IconPaused
	IconRouteDown
	// IconAlert: a budget or quota window at 80% or more, or a session
	// stopped by the runaway brake.
	IconAlert
)

// Icon is the icon for the state: paused wins; otherwise a down current
// route (or no route up at all) shows the route-down icon; then the spend
// guard's attention.
func (s State) Icon() IconState {
	if s.Paused {
		return IconPaused
	}
	anyUp := false
	for _, r := range s.Routes {
		if r.Name == s.Current && r.Checked && !r.Up {
			return IconRouteDown
		}
		anyUp = anyUp || !r.Checked || r.Up
	}
	if len(s.Routes) > 0 && !anyUp {
		return IconRouteDown
	}
	if s.Guard.attention() {
		return IconAlert
	}
	return IconRunning
}

// RoutesFrom reads the tray's routes and current route from the core's
// route list.
func RoutesFrom(routes []coreapi.RouteStatus, choice string) (out []Route, current string) {
	for _, r := range routes {
		out = append(out, Route{Name: r.Name, Checked: r.Checked, Up: r.Up, LatencyMS: r.Latency.Round(time.Millisecond).Milliseconds()})
		if r.Current {
			current = r.Name
		}
	}
	if current == "" && choice != coreapi.AutoChoice {
		current = choice
	}
	return out, current
}

// Cents rounds dollars to cents for State.SpendCents.
func Cents(usd float64) int64 { return int64(math.Round(usd * 100)) }

// Item is one menu entry. The menu is plain data so that it is built and
// tested without a tray host; systray.go shows it.
type Item struct {
	Label     string
	Separator bool
	Disabled  bool
	// Checkable items show a check box, ticked when Checked.
	Checkable, Checked bool
	Children           []Item
	// Do is the item's action; nil for none. It runs on a goroutine of
	// the tray's and may block briefly (an admin call in-process).
	Do func()
}

// Find returns the first item (depth first) with the label.
func Find(items []Item, label string) (Item, bool) {
	for _, it := range items {
		if it.Label == label && !it.Separator {
			return it, true
		}
		if c, ok := Find(it.Children, label); ok {
			return c, true
		}
	}
	return Item{}, false
}

// Actions are the menu's callbacks; a nil action leaves its item without
// one.
type Actions struct {
	TogglePause        func()
	UseRoute           func(name string)
	UseAuto            func()
	TestLatency        func()
	CopyBaseURL        func()
	CopyEnvironment    func()
	OpenDashboard      func()
	OpenSettings       func()
	ToggleStartAtLogin func()
	Quit               func()
	// AllowOneHour lifts the hard caps for AllowFor; ReleaseBrake lets a
	// stopped session go on.
	AllowOneHour func()
	ReleaseBrake func(session string)
}

// RouteLabel is a route with its health: "Office SOCKS · 182 ms",
// "Direct · down", "Home HTTP · untested".
func RouteLabel(lang string, r Route) string {
	switch {
	case !r.Checked:
		return i18n.Tf(lang, "{{.Name}} · untested", map[string]any{"Name": r.Name})
	case !r.Up:
		return i18n.Tf(lang, "{{.Name}} · down", map[string]any{"Name": r.Name})
	default:
		return i18n.Tf(lang, "{{.Name}} · {{.MS}} ms", map[string]any{"Name": r.Name, "MS": r.LatencyMS})
	}
}

// StatusLine is the tray's first (disabled) item, up to three parts in a
// fixed priority (issue 12): a budget at 80% or more or the subscription
// quota, then the state or the route serving requests with its latency,
// then today's spend and requests.
func StatusLine(s State) string {
	var route string
	for _, r := range s.Routes {
		if r.Name == s.Current {
			route = RouteLabel(s.Lang, r)
		}
	}
	if route == "" {
		route = i18n.T(s.Lang, "no route")
	}
	if s.Choice == coreapi.AutoChoice {
		route = i18n.Tf(s.Lang, "Auto → {{.Route}}", map[string]any{"Route": route})
	}
	today := i18n.Tf(s.Lang, "{{.Spend}} · {{.Count}} requests today", map[string]any{
		"Spend": coreapi.FormatUSD(float64(s.SpendCents) / 100), "Count": s.RequestsToday,
	})
	if s.Paused {
		route = i18n.T(s.Lang, "Paused")
	}
	line := route + " — " + today
	if s.CacheOff {
		line += " — " + i18n.T(s.Lang, "cache off")
	}
	if g := GuardItem(s.Lang, s.Guard); g != "" {
		line = g + " — " + line
	}
	return line
}

// Menu builds the whole tray menu from the state: a pure function of its
// arguments.
func Menu(s State, a Actions) []Item {
	l := s.Lang
	t := func(key string) string { return i18n.T(l, key) }
	pause := t("Pause Ferry")
	if s.Paused {
		pause = t("Resume Ferry")
	}
	var routes []Item
	for _, r := range s.Routes {
		it := Item{Label: RouteLabel(l, r), Checkable: true, Checked: s.Choice == r.Name}
		if a.UseRoute != nil {
			name := r.Name
			it.Do = func() { a.UseRoute(name) }
		}
		routes = append(routes, it)
	}
	routes = append(routes,
		Item{Label: t("Auto (fastest)"), Checkable: true, Checked: s.Choice == coreapi.AutoChoice, Do: a.UseAuto},
		Item{Separator: true},
		Item{Label: t("Test latency now"), Do: a.TestLatency},
	)
	items := []Item{{Label: StatusLine(s), Disabled: true}}
	if s.WindowsStopped {
		items = append(items, Item{Label: t("Windows stopped: they crashed 3 times in a minute"), Disabled: true})
	}
	items = append(items, guardItems(l, s.Guard, a)...)
	return append(items,
		Item{Separator: true},
		Item{Label: pause, Do: a.TogglePause},
		Item{Label: t("Route"), Children: routes},
		Item{Separator: true},
		Item{Label: t("Copy base URL"), Do: a.CopyBaseURL},
		Item{Label: t("Copy Claude Code environment"), Do: a.CopyEnvironment},
		Item{Separator: true},
		Item{Label: t("Open dashboard"), Do: a.OpenDashboard},
		Item{Label: t("Settings…"), Do: a.OpenSettings},
		Item{Label: t("Start at login"), Checkable: true, Checked: s.StartAtLogin, Do: a.ToggleStartAtLogin},
		Item{Separator: true},
		Item{Label: t("Quit Ferry"), Do: a.Quit},
	)
}

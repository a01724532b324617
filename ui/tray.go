package ui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"

	"github.com/ferry-gateway/ferry/assets"
)

// TrayRoute is one route as the tray shows it.
type TrayRoute struct {
	Name    string
	Checked bool // probed at least once
	Up      bool
	// LatencyMS is rounded to whole milliseconds so that jitter below a
	// millisecond does not rebuild the menu.
	LatencyMS int64
}

// TrayState is everything the tray menu and icon show. It is comparable
// with Equal so the menu is rebuilt only when something visible changed.
type TrayState struct {
	Paused bool
	Routes []TrayRoute
	// Choice is a route name or AutoChoice.
	Choice string
	// Current is the route serving the next request ("" when none).
	Current string
	// SpendCents and RequestsToday are today's totals (local time).
	SpendCents    int64
	RequestsToday int64
	StartAtLogin  bool
}

// Equal reports whether two states show the same menu.
func (s TrayState) Equal(o TrayState) bool {
	return s.Paused == o.Paused && s.Choice == o.Choice && s.Current == o.Current &&
		s.SpendCents == o.SpendCents && s.RequestsToday == o.RequestsToday &&
		s.StartAtLogin == o.StartAtLogin && slices.Equal(s.Routes, o.Routes)
}

// IconState is which tray icon to show.
type IconState int

const (
	IconRunning IconState = iota
	IconPaused
	IconRouteDown
)

// Icon is the icon for the state: paused wins; otherwise a down active
// route (or no route up at all) shows the route-down icon.
func (s TrayState) Icon() IconState {
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
	return IconRunning
}

// TrayActions are the menu's callbacks. They run on Fyne's main goroutine;
// a nil action leaves its item without one.
type TrayActions struct {
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
}

// TrayStateFrom reads the tray's state from the core and today's stats.
func TrayStateFrom(routes []RouteStatus, choice string, paused bool, today Stats, startAtLogin bool) TrayState {
	s := TrayState{
		Paused:        paused,
		Choice:        choice,
		SpendCents:    int64(math.Round(today.SpendToday * 100)),
		RequestsToday: today.RequestsToday,
		StartAtLogin:  startAtLogin,
	}
	for _, r := range routes {
		s.Routes = append(s.Routes, TrayRoute{Name: r.Name, Checked: r.Checked, Up: r.Up, LatencyMS: r.Latency.Round(time.Millisecond).Milliseconds()})
		if r.Current {
			s.Current = r.Name
		}
	}
	if s.Current == "" && choice != AutoChoice {
		s.Current = choice
	}
	return s
}

// RouteLabel is a route with its health: "Office SOCKS · 182 ms",
// "Direct · down", "Home HTTP · untested".
func RouteLabel(r TrayRoute) string {
	switch {
	case !r.Checked:
		return lang.L("{{.Name}} · untested", map[string]any{"Name": r.Name})
	case !r.Up:
		return lang.L("{{.Name}} · down", map[string]any{"Name": r.Name})
	default:
		return lang.L("{{.Name}} · {{.MS}} ms", map[string]any{"Name": r.Name, "MS": r.LatencyMS})
	}
}

// StatusLine is the tray's first (disabled) item: the state, the route
// serving requests with its latency, and today's spend and requests.
func StatusLine(s TrayState) string {
	var route string
	for _, r := range s.Routes {
		if r.Name == s.Current {
			route = RouteLabel(r)
		}
	}
	if route == "" {
		route = lang.L("no route")
	}
	if s.Choice == AutoChoice {
		route = lang.L("Auto → {{.Route}}", map[string]any{"Route": route})
	}
	today := lang.L("{{.Spend}} · {{.Count}} requests today", map[string]any{
		"Spend": FormatUSD(float64(s.SpendCents) / 100), "Count": s.RequestsToday,
	})
	if s.Paused {
		return lang.L("Paused") + " — " + today
	}
	return route + " — " + today
}

// TrayMenu builds the whole tray menu from the state. It is a pure
// function of its arguments (and the current language).
func TrayMenu(s TrayState, a TrayActions) *fyne.Menu {
	status := &fyne.MenuItem{Label: StatusLine(s), Disabled: true}

	pauseLabel := lang.L("Pause Ferry")
	if s.Paused {
		pauseLabel = lang.L("Resume Ferry")
	}

	var routeItems []*fyne.MenuItem
	for _, r := range s.Routes {
		item := fyne.NewMenuItem(RouteLabel(r), nil)
		item.Checked = s.Choice == r.Name
		if a.UseRoute != nil {
			name := r.Name
			item.Action = func() { a.UseRoute(name) }
		}
		routeItems = append(routeItems, item)
	}
	auto := fyne.NewMenuItem(lang.L("Auto (fastest)"), a.UseAuto)
	auto.Checked = s.Choice == AutoChoice
	routeItems = append(routeItems, auto,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(lang.L("Test latency now"), a.TestLatency))
	route := fyne.NewMenuItem(lang.L("Route"), nil)
	route.ChildMenu = fyne.NewMenu("", routeItems...)

	login := fyne.NewMenuItem(lang.L("Start at login"), a.ToggleStartAtLogin)
	login.Checked = s.StartAtLogin

	quit := fyne.NewMenuItem(lang.L("Quit Ferry"), a.Quit)
	quit.IsQuit = true

	return fyne.NewMenu("Ferry",
		status,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(pauseLabel, a.TogglePause),
		route,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(lang.L("Copy base URL"), a.CopyBaseURL),
		fyne.NewMenuItem(lang.L("Copy Claude Code environment"), a.CopyEnvironment),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(lang.L("Open dashboard"), a.OpenDashboard),
		fyne.NewMenuItem(lang.L("Settings…"), a.OpenSettings),
		login,
		fyne.NewMenuItemSeparator(),
		quit,
	)
}

// ClaudeEnvironment is the shell command that points Claude Code at Ferry:
// the POSIX export form, or the PowerShell form on Windows.
func ClaudeEnvironment(baseURL, token, goos string) string {
	if goos == "windows" {
		return fmt.Sprintf("$env:ANTHROPIC_BASE_URL=%q; $env:ANTHROPIC_API_KEY=%q", baseURL, token)
	}
	return fmt.Sprintf("export ANTHROPIC_BASE_URL=%s ANTHROPIC_API_KEY=%s", shellQuote(baseURL), shellQuote(token))
}

// shellQuote quotes s for a POSIX shell only when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TrayIcon is the icon for a state. dark selects the light-ink variant for
// dark panels. On macOS the template image is used instead (template says
// so): the menu bar tints it itself.
func TrayIcon(st IconState, dark, template bool) fyne.Resource {
	if template {
		var b []byte
		var name string
		switch st {
		case IconPaused:
			b, name = assets.TrayPausedTemplate, "tray-paused-template.svg"
		case IconRouteDown:
			b, name = assets.TrayDownTemplate, "tray-down-template.svg"
		default:
			b, name = assets.TrayRunningTemplate, "tray-running-template.svg"
		}
		// Fyne marks a themed (SVG) resource as a macOS template image.
		return theme.NewThemedResource(fyne.NewStaticResource(name, b))
	}
	type key struct {
		st   IconState
		dark bool
	}
	icons := map[key][]byte{
		{IconRunning, false}:   assets.TrayRunningLight,
		{IconRunning, true}:    assets.TrayRunningDark,
		{IconPaused, false}:    assets.TrayPausedLight,
		{IconPaused, true}:     assets.TrayPausedDark,
		{IconRouteDown, false}: assets.TrayDownLight,
		{IconRouteDown, true}:  assets.TrayDownDark,
	}
	names := map[IconState]string{IconRunning: "running", IconPaused: "paused", IconRouteDown: "down"}
	variant := "light"
	if dark {
		variant = "dark"
	}
	return fyne.NewStaticResource("tray-"+names[st]+"-"+variant+".png", icons[key{st, dark}])
}

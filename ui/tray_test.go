package ui

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
)

func TestMain(m *testing.M) {
	// Tests read English labels unless they switch language themselves.
	if err := ApplyLanguage(LanguageEnglish); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func item(t *testing.T, m *fyne.Menu, label string) *fyne.MenuItem {
	t.Helper()
	for _, it := range m.Items {
		if it.Label == label {
			return it
		}
	}
	var labels []string
	for _, it := range m.Items {
		labels = append(labels, it.Label)
	}
	t.Fatalf("no item %q in %q", label, labels)
	return nil
}

func labels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.IsSeparator {
			out = append(out, "---")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

func checked(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.Checked {
			out = append(out, it.Label)
		}
	}
	return out
}

var (
	office = TrayRoute{Name: "Office SOCKS", Checked: true, Up: true, LatencyMS: 182}
	direct = TrayRoute{Name: "Direct", Checked: true, Up: false}
	home   = TrayRoute{Name: "Home HTTP", Checked: false}
)

func TestTrayMenuStates(t *testing.T) {
	cases := []struct {
		name        string
		state       TrayState
		status      string
		pause       string
		routeItems  []string
		checked     []string
		icon        IconState
		loginTicked bool
	}{
		{
			name:       "running",
			state:      TrayState{Routes: []TrayRoute{office, direct}, Choice: "Office SOCKS", Current: "Office SOCKS", SpendCents: 123, RequestsToday: 45},
			status:     "Office SOCKS · 182 ms — $1.23 · 45 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Direct · down", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Office SOCKS · 182 ms"},
			icon:       IconRunning,
		},
		{
			name:       "paused",
			state:      TrayState{Paused: true, Routes: []TrayRoute{office}, Choice: "Office SOCKS", Current: "Office SOCKS"},
			status:     "Paused — $0.00 · 0 requests today",
			pause:      "Resume Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Office SOCKS · 182 ms"},
			icon:       IconPaused,
		},
		{
			name:       "route down",
			state:      TrayState{Routes: []TrayRoute{office, direct}, Choice: "Direct", Current: "Direct", StartAtLogin: true},
			status:     "Direct · down — $0.00 · 0 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Direct · down", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Direct · down"},
			icon:       IconRouteDown, loginTicked: true,
		},
		{
			name:       "auto",
			state:      TrayState{Routes: []TrayRoute{office, direct, home}, Choice: AutoChoice, Current: "Office SOCKS", SpendCents: 5, RequestsToday: 1},
			status:     "Auto → Office SOCKS · 182 ms — $0.05 · 1 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Direct · down", "Home HTTP · untested", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Auto (fastest)"},
			icon:       IconRunning,
		},
		{
			name:       "all down under auto",
			state:      TrayState{Routes: []TrayRoute{direct, {Name: "Spare", Checked: true}}, Choice: AutoChoice},
			status:     "Auto → no route — $0.00 · 0 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Direct · down", "Spare · down", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Auto (fastest)"},
			icon:       IconRouteDown,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := TrayMenu(c.state, TrayActions{})
			want := []string{c.status, "---", c.pause, "Route", "---", "Copy base URL", "Copy Claude Code environment", "---", "Open dashboard", "Settings…", "Start at login", "---", "Quit Ferry"}
			if got := labels(m); !slices.Equal(got, want) {
				t.Fatalf("items:\n got %q\nwant %q", got, want)
			}
			if !m.Items[0].Disabled {
				t.Error("status line is not disabled")
			}
			route := item(t, m, "Route").ChildMenu
			if route == nil {
				t.Fatal("Route has no submenu")
			}
			if got := labels(route); !slices.Equal(got, c.routeItems) {
				t.Errorf("route items:\n got %q\nwant %q", got, c.routeItems)
			}
			if got := checked(route); !slices.Equal(got, c.checked) {
				t.Errorf("checked = %q, want exactly %q", got, c.checked)
			}
			if got := item(t, m, "Start at login").Checked; got != c.loginTicked {
				t.Errorf("Start at login checked = %v", got)
			}
			quit := item(t, m, "Quit Ferry")
			if !quit.IsQuit {
				t.Error("Quit Ferry is not marked IsQuit")
			}
			if got := c.state.Icon(); got != c.icon {
				t.Errorf("icon = %v, want %v", got, c.icon)
			}
		})
	}
}

func TestTrayMenuActions(t *testing.T) {
	var got []string
	rec := func(s string) func() { return func() { got = append(got, s) } }
	a := TrayActions{
		TogglePause:        rec("pause"),
		UseRoute:           func(n string) { got = append(got, "use "+n) },
		UseAuto:            rec("auto"),
		TestLatency:        rec("test"),
		CopyBaseURL:        rec("copy url"),
		CopyEnvironment:    rec("copy env"),
		OpenDashboard:      rec("dashboard"),
		OpenSettings:       rec("settings"),
		ToggleStartAtLogin: rec("login"),
		Quit:               rec("quit"),
	}
	s := TrayState{Routes: []TrayRoute{office, direct}, Choice: "Office SOCKS", Current: "Office SOCKS"}
	m := TrayMenu(s, a)
	route := item(t, m, "Route").ChildMenu
	for _, l := range []string{"Pause Ferry", "Copy base URL", "Copy Claude Code environment", "Open dashboard", "Settings…", "Start at login", "Quit Ferry"} {
		item(t, m, l).Action()
	}
	for _, l := range []string{"Direct · down", "Auto (fastest)", "Test latency now"} {
		item(t, route, l).Action()
	}
	want := []string{"pause", "copy url", "copy env", "dashboard", "settings", "login", "quit", "use Direct", "auto", "test"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions:\n got %q\nwant %q", got, want)
	}
}

func TestTrayStateEqualAndFrom(t *testing.T) {
	routes := []RouteStatus{
		{Name: "Office SOCKS", Checked: true, Up: true, Latency: 182400 * time.Microsecond, Current: true},
		{Name: "Direct", Checked: true},
	}
	a := TrayStateFrom(routes, AutoChoice, false, Stats{SpendToday: 1.234, RequestsToday: 7}, true)
	if a.Current != "Office SOCKS" || a.SpendCents != 123 || a.Routes[0].LatencyMS != 182 || !a.StartAtLogin {
		t.Fatalf("state = %+v", a)
	}
	routes[0].Latency = 182300 * time.Microsecond // same millisecond: no rebuild
	b := TrayStateFrom(routes, AutoChoice, false, Stats{SpendToday: 1.2341, RequestsToday: 7}, true)
	if !a.Equal(b) {
		t.Fatal("sub-millisecond jitter changed the state")
	}
	routes[0].Up = false
	c := TrayStateFrom(routes, AutoChoice, false, Stats{SpendToday: 1.234, RequestsToday: 7}, true)
	if a.Equal(c) {
		t.Fatal("a route going down did not change the state")
	}
}

func TestClaudeEnvironment(t *testing.T) {
	tok := "sk-ferry-abc"
	if got, want := ClaudeEnvironment("http://127.0.0.1:7856", tok, "linux"), "export ANTHROPIC_BASE_URL=http://127.0.0.1:7856 ANTHROPIC_API_KEY=sk-ferry-abc"; got != want {
		t.Errorf("linux: %q, want %q", got, want)
	}
	if got, want := ClaudeEnvironment("http://127.0.0.1:7856", tok, "windows"), `$env:ANTHROPIC_BASE_URL="http://127.0.0.1:7856"; $env:ANTHROPIC_API_KEY="sk-ferry-abc"`; got != want {
		t.Errorf("windows: %q, want %q", got, want)
	}
	if got := ClaudeEnvironment("http://x", "a b'c", "darwin"); !strings.HasSuffix(got, `'a b'\''c'`) {
		t.Errorf("quoting: %q", got)
	}
}

func TestTrayIcons(t *testing.T) {
	for _, st := range []IconState{IconRunning, IconPaused, IconRouteDown} {
		for _, dark := range []bool{false, true} {
			r := TrayIcon(st, dark, false)
			if len(r.Content()) < 100 || !strings.HasSuffix(r.Name(), ".png") {
				t.Errorf("icon %v dark=%v: %s, %d bytes", st, dark, r.Name(), len(r.Content()))
			}
		}
		if r := TrayIcon(st, false, true); !strings.HasSuffix(r.Name(), ".svg") {
			t.Errorf("template %v: %s", st, r.Name())
		}
	}
	if string(TrayIcon(IconRunning, false, false).Content()) == string(TrayIcon(IconPaused, false, false).Content()) {
		t.Error("running and paused icons are the same")
	}
}

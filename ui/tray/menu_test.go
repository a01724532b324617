package tray

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

const AutoChoice = coreapi.AutoChoice

func item(t *testing.T, items []Item, label string) Item {
	t.Helper()
	for _, it := range items {
		if it.Label == label {
			return it
		}
	}
	t.Fatalf("no item %q in %q", label, labels(items))
	return Item{}
}

func labels(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Separator {
			out = append(out, "---")
			continue
		}
		out = append(out, it.Label)
	}
	return out
}

func checked(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Checked {
			out = append(out, it.Label)
		}
	}
	return out
}

var (
	office = Route{Name: "Office SOCKS", Checked: true, Up: true, LatencyMS: 182}
	direct = Route{Name: "Direct", Checked: true, Up: false}
	home   = Route{Name: "Home HTTP", Checked: false}
)

func TestTrayMenuStates(t *testing.T) {
	cases := []struct {
		name        string
		state       State
		status      string
		pause       string
		routeItems  []string
		checked     []string
		icon        IconState
		loginTicked bool
	}{
		{
			name:       "running",
			state:      State{Lang: "en", Routes: []Route{office, direct}, Choice: "Office SOCKS", Current: "Office SOCKS", SpendCents: 123, RequestsToday: 45},
			status:     "Office SOCKS · 182 ms — $1.23 · 45 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Direct · down", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Office SOCKS · 182 ms"},
			icon:       IconRunning,
		},
		{
			name:       "paused",
			state:      State{Lang: "en", Paused: true, Routes: []Route{office}, Choice: "Office SOCKS", Current: "Office SOCKS"},
			status:     "Paused — $0.00 · 0 requests today",
			pause:      "Resume Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Office SOCKS · 182 ms"},
			icon:       IconPaused,
		},
		{
			name:       "route down",
			state:      State{Lang: "en", Routes: []Route{office, direct}, Choice: "Direct", Current: "Direct", StartAtLogin: true},
			status:     "Direct · down — $0.00 · 0 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Direct · down", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Direct · down"},
			icon:       IconRouteDown, loginTicked: true,
		},
		{
			name:       "auto",
			state:      State{Lang: "en", Routes: []Route{office, direct, home}, Choice: AutoChoice, Current: "Office SOCKS", SpendCents: 5, RequestsToday: 1},
			status:     "Auto → Office SOCKS · 182 ms — $0.05 · 1 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Office SOCKS · 182 ms", "Direct · down", "Home HTTP · untested", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Auto (fastest)"},
			icon:       IconRunning,
		},
		{
			name:       "all down under auto",
			state:      State{Lang: "en", Routes: []Route{direct, {Name: "Spare", Checked: true}}, Choice: AutoChoice},
			status:     "Auto → no route — $0.00 · 0 requests today",
			pause:      "Pause Ferry",
			routeItems: []string{"Direct · down", "Spare · down", "Auto (fastest)", "---", "Test latency now"},
			checked:    []string{"Auto (fastest)"},
			icon:       IconRouteDown,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Menu(c.state, Actions{})
			want := []string{c.status, "---", c.pause, "Route", "---", "Copy base URL", "Copy Claude Code environment", "---", "Open dashboard", "Settings…", "Start at login", "---", "Quit Ferry"}
			if got := labels(m); !slices.Equal(got, want) {
				t.Fatalf("items:\n got %q\nwant %q", got, want)
			}
			if !m[0].Disabled {
				t.Error("status line is not disabled")
			}
			route := item(t, m, "Route").Children
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
			if got := c.state.Icon(); got != c.icon {
				t.Errorf("icon = %v, want %v", got, c.icon)
			}
		})
	}
}

func TestTrayMenuActions(t *testing.T) {
	var got []string
	rec := func(s string) func() { return func() { got = append(got, s) } }
	a := Actions{
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
	s := State{Lang: "en", Routes: []Route{office, direct}, Choice: "Office SOCKS", Current: "Office SOCKS"}
	m := Menu(s, a)
	route := item(t, m, "Route").Children
	for _, l := range []string{"Pause Ferry", "Copy base URL", "Copy Claude Code environment", "Open dashboard", "Settings…", "Start at login", "Quit Ferry"} {
		item(t, m, l).Do()
	}
	for _, l := range []string{"Direct · down", "Auto (fastest)", "Test latency now"} {
		item(t, route, l).Do()
	}
	want := []string{"pause", "copy url", "copy env", "dashboard", "settings", "login", "quit", "use Direct", "auto", "test"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions:\n got %q\nwant %q", got, want)
	}
}

func TestStateEqualAndRoutesFrom(t *testing.T) {
	routes := []coreapi.RouteStatus{
		{Name: "Office SOCKS", Checked: true, Up: true, Latency: 182400 * time.Microsecond, Current: true},
		{Name: "Direct", Checked: true},
	}
	from := func(usd float64) State {
		rs, current := RoutesFrom(routes, AutoChoice)
		return State{Lang: "en", Routes: rs, Current: current, Choice: AutoChoice, SpendCents: Cents(usd), RequestsToday: 7}
	}
	a := from(1.234)
	if a.Current != "Office SOCKS" || a.SpendCents != 123 || a.Routes[0].LatencyMS != 182 {
		t.Fatalf("state = %+v", a)
	}
	routes[0].Latency = 182300 * time.Microsecond // same millisecond: no rebuild
	if b := from(1.2341); !a.Equal(b) {
		t.Fatal("sub-millisecond jitter changed the state")
	}
	routes[0].Up = false
	if c := from(1.234); a.Equal(c) {
		t.Fatal("a route going down did not change the state")
	}
	if d := (State{Lang: "zh-CN", Routes: a.Routes, Current: a.Current, Choice: a.Choice, SpendCents: 123, RequestsToday: 7}); a.Equal(d) {
		t.Fatal("a language change did not change the state")
	}
}

func TestMenuInChinese(t *testing.T) {
	m := Menu(State{Lang: i18n.Chinese, Routes: []Route{office}, Choice: "Office SOCKS", Current: "Office SOCKS"}, Actions{})
	for _, key := range []string{"Pause Ferry", "Open dashboard", "Quit Ferry"} {
		zh := i18n.T(i18n.Chinese, key)
		if zh == key {
			t.Fatalf("%q has no Chinese translation", key)
		}
		item(t, m, zh)
	}
	m = Menu(State{Lang: i18n.Chinese, Routes: []Route{office, direct}, Choice: AutoChoice, Current: "Office SOCKS", SpendCents: 123, RequestsToday: 4}, Actions{})
	want := []string{"自动 → Office SOCKS · 182 毫秒 — 今日 $1.23 · 4 次请求", "---", "暂停 Ferry", "线路", "---", "复制基础 URL", "复制 Claude Code 环境变量", "---", "打开仪表盘", "设置…", "登录时启动", "---", "退出 Ferry"}
	if got := labels(m); !slices.Equal(got, want) {
		t.Fatalf("zh-CN tray:\n got %q\nwant %q", got, want)
	}
	route := item(t, m, "线路").Children
	if got := labels(route); !slices.Equal(got, []string{"Office SOCKS · 182 毫秒", "Direct · 不可用", "自动（最快）", "---", "立即测试延迟"}) {
		t.Errorf("zh-CN route menu = %q", got)
	}
	stopped := Menu(State{Lang: i18n.Chinese, WindowsStopped: true}, Actions{})
	if zh := i18n.T(i18n.Chinese, "Windows stopped: they crashed 3 times in a minute"); stopped[1].Label != zh || zh == "Windows stopped: they crashed 3 times in a minute" {
		t.Fatalf("windows-stopped line %q", stopped[1].Label)
	}
}

func TestClaudeEnvironment(t *testing.T) {
	tok := "sk-ferry-abc"
	if got, want := coreapi.ClaudeEnvironment("http://127.0.0.1:7856", tok, "linux"), "export ANTHROPIC_BASE_URL=http://127.0.0.1:7856 ANTHROPIC_API_KEY=sk-ferry-abc"; got != want {
		t.Errorf("linux: %q, want %q", got, want)
	}
	if got, want := coreapi.ClaudeEnvironment("http://127.0.0.1:7856", tok, "windows"), `$env:ANTHROPIC_BASE_URL="http://127.0.0.1:7856"; $env:ANTHROPIC_API_KEY="sk-ferry-abc"`; got != want {
		t.Errorf("windows: %q, want %q", got, want)
	}
	if got := coreapi.ClaudeEnvironment("http://x", "a b'c", "darwin"); !strings.HasSuffix(got, `'a b'\''c'`) {
		t.Errorf("quoting: %q", got)
	}
}

package tray

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

var guardNow = time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)

func views() (coreapi.BudgetsView, coreapi.QuotaView, coreapi.BrakeView) {
	b := coreapi.BudgetsView{Budgets: []coreapi.BudgetStatus{
		{Budget: coreapi.Budget{Name: "daily", Mode: "hard"}, Fraction: 0.85},
		{Budget: coreapi.Budget{Name: "monthly", Mode: "soft"}, Fraction: 0.5},
	}}
	q := coreapi.QuotaView{Accounts: []coreapi.QuotaAccount{
		{Account: "new", Windows: []coreapi.QuotaWindow{{Name: "5h", Utilization: 0.42, Reset: guardNow.Add(110 * time.Minute)}, {Name: "7d", Utilization: 0.63}}},
		{Account: "old", Windows: []coreapi.QuotaWindow{{Name: "5h", Utilization: 0.99}}},
	}}
	br := coreapi.BrakeView{Stopped: []coreapi.BrakeStop{
		{Session: "0f3a9c2e-7d41-4b8e-9a55-1c2d3e4f5a6b"},
		{Session: "released", ReleasedUntil: guardNow.Add(time.Hour)},
	}}
	return b, q, br
}

func TestGuardFromTheCoresViews(t *testing.T) {
	b, q, br := views()
	g := GuardFrom(b, q, br, guardNow, time.UTC)
	want := Guard{Budget: "daily", BudgetPct: 85, Quota5h: 42, Has5h: true, Quota7d: 63, Has7d: true, QuotaReset: "16:20",
		Stopped: []string{"0f3a9c2e-7d41-4b8e-9a55-1c2d3e4f5a6b"}}
	if !g.equal(want) {
		t.Fatalf("guard = %+v\nwant %+v", g, want)
	}
	// The budget closest to its limit wins; a spent hard one refuses.
	b.Budgets[1].Fraction, b.Budgets[0].Fraction, b.Budgets[0].Refusing = 0.97, 1.02, true
	b.AllowUntil = guardNow.Add(-time.Minute) // over: not shown
	g = GuardFrom(b, q, br, guardNow, time.UTC)
	if g.Budget != "daily" || g.BudgetPct != 102 || !g.Refusing || g.AllowUntil != "" {
		t.Errorf("spent: %+v", g)
	}
	b.AllowUntil = guardNow.Add(time.Hour)
	if g := GuardFrom(b, q, br, guardNow, time.UTC); g.AllowUntil != "15:30" {
		t.Errorf("allowance: %+v", g)
	}
	if g := GuardFrom(coreapi.BudgetsView{}, coreapi.QuotaView{}, coreapi.BrakeView{}, guardNow, time.UTC); !g.equal(Guard{}) || g.attention() {
		t.Errorf("nothing: %+v", g)
	}
}

// The status line's parts in their fixed priority: a budget at 80% or
// more, else the quota; then the route (or Paused); then today.
func TestStatusLinePriority(t *testing.T) {
	base := State{Lang: "en", Routes: []Route{office}, Choice: "Office SOCKS", Current: "Office SOCKS", SpendCents: 123, RequestsToday: 45}
	quota := Guard{Quota5h: 42, Has5h: true, Quota7d: 63, Has7d: true, QuotaReset: "16:20"}
	for _, c := range []struct {
		name  string
		guard Guard
		pause bool
		want  string
		icon  IconState
	}{
		{"nothing", Guard{}, false, "Office SOCKS · 182 ms — $1.23 · 45 requests today", IconRunning},
		{"quota", quota, false, "5h 42% · resets 16:20 · week 63% — Office SOCKS · 182 ms — $1.23 · 45 requests today", IconRunning},
		{"week only", Guard{Quota7d: 81, Has7d: true}, false, "week 81% — Office SOCKS · 182 ms — $1.23 · 45 requests today", IconAlert},
		{"budget over quota", Guard{Budget: "daily", BudgetPct: 85, Quota5h: 42, Has5h: true}, false, "Budget daily at 85% — Office SOCKS · 182 ms — $1.23 · 45 requests today", IconAlert},
		{"spent", Guard{Budget: "daily", BudgetPct: 100, Refusing: true}, false, "Budget daily spent: requests refused — Office SOCKS · 182 ms — $1.23 · 45 requests today", IconAlert},
		{"paused", quota, true, "5h 42% · resets 16:20 · week 63% — Paused — $1.23 · 45 requests today", IconPaused},
		{"brake", Guard{Stopped: []string{"s"}}, false, "Office SOCKS · 182 ms — $1.23 · 45 requests today", IconAlert},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := base
			s.Guard, s.Paused = c.guard, c.pause
			if got := StatusLine(s); got != c.want {
				t.Errorf("status line\n got %q\nwant %q", got, c.want)
			}
			if got := s.Icon(); got != c.icon {
				t.Errorf("icon %v, want %v", got, c.icon)
			}
		})
	}
	down := base
	down.Routes, down.Choice, down.Current = []Route{direct}, "Direct", "Direct"
	down.Guard = Guard{Budget: "daily", BudgetPct: 90}
	if down.Icon() != IconRouteDown {
		t.Error("the guard hid a route that is down")
	}
}

func TestGuardMenuItems(t *testing.T) {
	var got []string
	a := Actions{AllowOneHour: func() { got = append(got, "allow") }, ReleaseBrake: func(s string) { got = append(got, "release "+s) }}
	s := State{Lang: "en", Guard: Guard{Budget: "daily", BudgetPct: 100, Refusing: true, Stopped: []string{"0f3a9c2e-7d41-4b8e-9a55-1c2d3e4f5a6b", "short"}}}
	m := Menu(s, a)
	if l := labels(m)[:4]; !slices.Equal(l, []string{StatusLine(s), "Allow one more hour", "Release brake for an hour", "---"}) {
		t.Fatalf("items = %q", labels(m))
	}
	item(t, m, "Allow one more hour").Do()
	rel := item(t, m, "Release brake for an hour").Children
	if l := labels(rel); !slices.Equal(l, []string{"0f3a9c2e-7d4…", "short"}) {
		t.Fatalf("sessions = %q", l)
	}
	rel[0].Do()
	if !slices.Equal(got, []string{"allow", "release 0f3a9c2e-7d41-4b8e-9a55-1c2d3e4f5a6b"}) {
		t.Fatalf("actions = %q", got)
	}

	// While an allowance is in force the menu says until when, and offers
	// no second one.
	s.Guard.AllowUntil = "15:30"
	m = Menu(s, a)
	it := item(t, m, "Hard caps are lifted until 15:30.")
	if !it.Disabled {
		t.Error("allowance line is not disabled")
	}
	if _, ok := Find(m, "Allow one more hour"); ok {
		t.Error("Allow one more hour offered during an allowance")
	}

	zh := Menu(State{Lang: i18n.Chinese, Guard: Guard{Budget: "daily", BudgetPct: 85, Refusing: true, Stopped: []string{"s"}}}, Actions{})
	for _, key := range []string{"Allow one more hour", "Release brake for an hour"} {
		if tr := i18n.T(i18n.Chinese, key); tr == key {
			t.Errorf("%q has no Chinese translation", key)
		} else {
			item(t, zh, tr)
		}
	}
	if !strings.HasPrefix(zh[0].Label, "预算 daily") {
		t.Errorf("zh-CN status line %q", zh[0].Label)
	}
}

// Every key the tray's guard texts use exists in Chinese.
func TestGuardTextsTranslated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(".", "guard.go"))
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`i18n\.Tf?\(lang, ("[^"]+")`).FindAllSubmatch(b, -1)
	if len(keys) < 6 {
		t.Fatalf("found %d keys", len(keys))
	}
	zh := i18n.Messages(i18n.Chinese)
	for _, k := range keys {
		key, _ := strconv.Unquote(string(k[1]))
		if _, ok := zh[key]; !ok {
			t.Errorf("zh-CN lacks %q", key)
		}
	}
}

// fakeGuard is the spend guard as the tray test's core holds it.
type fakeGuard struct {
	mu    sync.Mutex
	b     coreapi.BudgetsView
	q     coreapi.QuotaView
	br    coreapi.BrakeView
	calls []string
}

func (g *fakeGuard) Budgets() coreapi.BudgetsView { g.mu.Lock(); defer g.mu.Unlock(); return g.b }
func (g *fakeGuard) Quota() coreapi.QuotaView     { g.mu.Lock(); defer g.mu.Unlock(); return g.q }
func (g *fakeGuard) Brake() coreapi.BrakeView     { g.mu.Lock(); defer g.mu.Unlock(); return g.br }
func (g *fakeGuard) AllowBudgets(d time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, "allow "+d.String())
	g.b.AllowUntil = time.Now().Add(d)
	for i := range g.b.Budgets {
		g.b.Budgets[i].Refusing = false
	}
	return nil
}
func (g *fakeGuard) ReleaseBrake(s string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, "release "+s)
	g.br.Stopped = nil
	return nil
}

// The running tray reads the guard, follows its events, and its actions
// reach the guard.
func TestTrayShowsTheGuard(t *testing.T) {
	core := &fakeCore{}
	core.lang.Store("en")
	g := &fakeGuard{br: coreapi.BrakeView{Stopped: []coreapi.BrakeStop{{Session: "sess-1"}}}}
	g.b = coreapi.BudgetsView{Budgets: []coreapi.BudgetStatus{{Budget: coreapi.Budget{Name: "daily", Mode: "hard"}, Fraction: 0.5}}}
	r := &fakeRenderer{}
	tr := New(core, r, Options{Guard: g})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "the brake in the menu", func() bool {
		m, _ := r.last()
		_, ok := Find(m, "Release brake for an hour")
		return ok
	})
	m, _ := r.last()
	item(t, item(t, m, "Release brake for an hour").Children, "sess-1").Do()

	// The budget is spent: the alert event rebuilds the menu at once.
	g.mu.Lock()
	g.b.Budgets[0].Fraction, g.b.Budgets[0].Refusing = 1, true
	g.mu.Unlock()
	core.bus.Publish(events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "daily", "level": "100"}})
	waitFor(t, "Allow one more hour", func() bool {
		m, _ := r.last()
		_, ok := Find(m, "Allow one more hour")
		return ok && strings.HasPrefix(m[0].Label, "Budget daily spent")
	})
	r.mu.Lock()
	icon := r.icons[len(r.icons)-1]
	r.mu.Unlock()
	if icon != IconAlert {
		t.Errorf("icon %v with a spent budget", icon)
	}
	m, _ = r.last()
	item(t, m, "Allow one more hour").Do()
	waitFor(t, "the allowance in the menu", func() bool {
		m, _ := r.last()
		_, ok := Find(m, "Allow one more hour")
		return !ok
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	if !slices.Equal(g.calls, []string{"release sess-1", "allow 1h0m0s"}) {
		t.Errorf("calls = %q", g.calls)
	}
}

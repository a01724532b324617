package ui

import (
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Issue 13: the open settings pages follow the core as the dashboard
// does: a budget changed elsewhere (the CLI, another window) or spent by
// requests shows without pressing Refresh, and nothing is refreshed once
// the window closed. The real event loop runs; what it hands to Fyne's
// main goroutine runs on this test's goroutine (Fyne's test driver would
// run it on the loop's, beside this one).
func TestSettingsPagesFollowTheCore(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{}) // no loop yet: started below
	main := make(chan func(), 16)
	d.do = func(f func()) { main <- f }
	_, spend := page(t, d, (*Desktop).spendPage)
	d.settingsOpen.Store(true)
	ch, unsubscribe := core.Subscribe(64)
	d.wg.Add(1)
	go d.loop(ch, unsubscribe)
	defer func() { d.cancel(); d.wg.Wait() }()

	// refreshed waits for the loop's next refresh and runs it here.
	refreshed := func(what string) {
		t.Helper()
		select {
		case f := <-main:
			f()
		case <-time.After(10 * time.Second):
			t.Fatalf("no refresh after %s", what)
		}
	}
	if !hasText(spend, "$8.50 of $10.00 (85%)") {
		t.Fatalf("page: %q", texts(spend))
	}

	// `ferry budget set daily 20` in a terminal: the core says a setting
	// changed.
	core.mu.Lock()
	core.guard.budgets[0].Limit, core.guard.budgets[0].Fraction = 20, 0.425
	core.mu.Unlock()
	core.bus.Publish(events.Event{Kind: events.SettingsChanged, Detail: "budget.daily"})
	refreshed("a setting changed")
	if !hasText(spend, "$8.50 of $20.00 (43%)") {
		t.Errorf("after the change: %q", texts(spend))
	}

	// Requests spend: the bar moves too, on the slower requests cadence.
	core.mu.Lock()
	core.guard.budgets[0].Spent, core.guard.budgets[0].Fraction = 19, 0.95
	core.mu.Unlock()
	core.bus.Publish(events.Event{Kind: events.RequestFinished})
	refreshed("a request finished")
	if !hasText(spend, "$19.00 of $20.00 (95%)") {
		t.Errorf("after requests: %q", texts(spend))
	}

	// Closed: events refresh nothing.
	d.settingsOpen.Store(false)
	core.bus.Publish(events.Event{Kind: events.SettingsChanged, Detail: "budget.daily"})
	select {
	case <-main:
		t.Error("a closed settings window was refreshed")
	case <-time.After(3 * dashRefresh):
	}
}

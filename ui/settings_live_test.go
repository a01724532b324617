package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// waitText waits until o shows want (Fyne's main goroutine applies the
// refresh).
func waitText(t *testing.T, o func() fyne.CanvasObject, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var ok bool
		fyne.DoAndWait(func() { ok = hasText(o(), want) })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never showed %q", want)
		}
	}
}

// Issue 13: the open settings pages follow the core as the dashboard
// does: a budget spent elsewhere (the CLI, another window, requests)
// shows without pressing Refresh, and a closed window refreshes nothing.
func TestSettingsPagesFollowTheCore(t *testing.T) {
	core := newFakeCore()
	a := test.NewTempApp(t)
	d, err := Run(a, core, Options{Show: WindowSettings, Autostart: &memAutostart{}, OnQuit: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		d.Quit()
		<-d.Done()
	}()
	var tabs *container.AppTabs
	fyne.DoAndWait(func() {
		tabs = d.settingsWin.Content().(*container.AppTabs)
		for i, p := range settingsPages {
			if p.id == "spend" {
				tabs.SelectIndex(i)
			}
		}
	})
	spend := func() fyne.CanvasObject { return tabs.Selected().Content }
	waitText(t, spend, "$8.50 of $10.00 (85%)")

	// `ferry budget set daily 20` in a terminal: the core says a setting
	// changed.
	core.mu.Lock()
	core.guard.budgets[0].Limit, core.guard.budgets[0].Fraction = 20, 0.425
	core.mu.Unlock()
	core.bus.Publish(events.Event{Kind: events.SettingsChanged, Detail: "budget.daily"})
	waitText(t, spend, "$8.50 of $20.00 (43%)")

	// Requests spend: the bar moves too (on the slower requests cadence).
	core.mu.Lock()
	core.guard.budgets[0].Spent, core.guard.budgets[0].Fraction = 19, 0.95
	core.mu.Unlock()
	core.bus.Publish(events.Event{Kind: events.RequestFinished})
	waitText(t, spend, "$19.00 of $20.00 (95%)")

	// Closed: nothing of it is refreshed any more.
	fyne.DoAndWait(func() { d.settingsWin.Close() })
	if d.settingsOpen.Load() {
		t.Error("settings still counted open")
	}
	fyne.DoAndWait(func() {
		if len(d.live) != 0 {
			t.Errorf("%d refreshers kept after close", len(d.live))
		}
	})
}

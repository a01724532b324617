//go:build linux || freebsd || openbsd || netbsd

package tray

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/coreapi"
	"github.com/ferry-gateway/ferry/ui/internal/dbustest"
)

// privateBus starts a dbus-daemon for the test and makes it the session
// bus.
func privateBus(t *testing.T) string {
	t.Helper()
	addr := dbustest.PrivateBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	return addr
}

// Issue 12: a spent hard cap's notification has "Allow one more hour",
// and pressing it on a real notification server lifts the cap; a brake
// note releases its session. Another client on the bus cannot press it.
// Each button is pressed as soon as the server shows its note, before
// Notify may have its reply: the press must still count.
func TestNotificationButtonsOverDBus(t *testing.T) {
	addr := privateBus(t)
	srv := dbustest.ServeNotifications(t, addr, "body", "actions")
	n := NewNotifier(nil)
	if n.err != nil {
		t.Fatal(n.err)
	}
	core := &fakeCore{}
	core.lang.Store("en")
	g := &fakeGuard{b: coreapi.BudgetsView{Budgets: []coreapi.BudgetStatus{{Budget: coreapi.Budget{Name: "daily", Mode: "hard"}, Fraction: 1, Refusing: true}}}}
	r := &fakeRenderer{}
	tr := New(core, r, Options{Guard: g, Notify: func(note Note) {
		if err := n.Notify(note); err != nil {
			t.Error(err)
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { defer func() { done <- struct{}{} }(); tr.Run(ctx) }()
	go func() { defer func() { done <- struct{}{} }(); n.Run(ctx) }()
	defer func() { cancel(); <-done; <-done; n.Close() }()
	// The first menu is drawn once the tray follows the events.
	waitFor(t, "the menu", func() bool { m, _ := r.last(); return m != nil })

	core.bus.Publish(events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "daily", "level": "100", "mode": "hard", "spent": "20", "limit": "20"}})
	note := srv.Next(t, 10*time.Second)
	if !slices.Equal(note.Actions, []string{ActionAllowHour, "Allow one more hour"}) || note.Summary != "Ferry: budget daily at 100%" {
		t.Fatalf("shown %+v", note)
	}

	// A stranger on the bus sends the same signal: nothing happens.
	other, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Emit(notifyPath, notifyIface+".ActionInvoked", note.ID, ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	// The server's "default" (the body clicked) is no button of ours.
	if err := srv.Press(note.ID, "default"); err != nil {
		t.Fatal(err)
	}
	core.bus.Publish(events.Event{Kind: events.BrakeFired, Attrs: map[string]string{"session": "sess-9", "repeats": "8"}})
	brake := srv.Next(t, 10*time.Second)
	if !slices.Equal(brake.Actions, []string{ActionReleaseBrake, "Release brake for an hour"}) {
		t.Fatalf("brake note %+v", brake)
	}
	// Pressed twice (a server that does not close the note): once only.
	for range 2 {
		if err := srv.Press(brake.ID, ActionReleaseBrake); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the release", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.calls) > 0 })
	g.mu.Lock()
	if len(g.calls) != 1 || g.calls[0] != "release sess-9" {
		t.Fatalf("the stranger's or the default signal acted: calls %q", g.calls)
	}
	g.mu.Unlock()
	// The budget note's own button, from its server.
	if err := srv.Press(note.ID, ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the allowance", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.calls) >= 2 })
	// A closed note's button does nothing.
	core.bus.Publish(events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "monthly", "level": "100", "mode": "hard"}})
	closed := srv.Next(t, 10*time.Second)
	if err := srv.Dismiss(closed.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.Press(closed.ID, ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	// A last note, answered, proves the signals above were handled.
	core.bus.Publish(events.Event{Kind: events.BrakeFired, Attrs: map[string]string{"session": "sess-10", "repeats": "8"}})
	last := srv.Next(t, 10*time.Second)
	if err := srv.Press(last.ID, ActionReleaseBrake); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the last release", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.calls) >= 3 })
	g.mu.Lock()
	defer g.mu.Unlock()
	if want := []string{"release sess-9", "allow 1h0m0s", "release sess-10"}; !slices.Equal(g.calls, want) {
		t.Errorf("calls %q, want %q", g.calls, want)
	}
}

// A server without actions (notify-osd, some minimal ones) gets the note
// without buttons: the body and the tray say what to do.
func TestNotificationWithoutActionsServer(t *testing.T) {
	addr := privateBus(t)
	srv := dbustest.ServeNotifications(t, addr, "body")
	n := NewNotifier(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	defer func() { cancel(); <-done; n.Close() }()
	if err := n.Notify(Note{Title: "t", Body: "b", Actions: []NoteAction{{Key: ActionAllowHour, Label: "Allow one more hour"}}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Next(t, 10*time.Second); len(got.Actions) != 0 || got.Summary != "t" || got.Body != "b" {
		t.Errorf("shown %+v", got)
	}
	if len(n.pending) != 0 {
		t.Errorf("%d notes kept for buttons never shown", len(n.pending))
	}
}

// No session bus: Notify says why, Run waits for its context.
func TestNotifierWithoutBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+t.TempDir()+"/none")
	n := NewNotifier(nil)
	if err := n.Notify(Note{Title: "t"}); err == nil || !strings.Contains(err.Error(), "session bus") {
		t.Errorf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n.Run(ctx)
}

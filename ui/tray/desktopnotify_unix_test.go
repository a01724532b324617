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

// shown is one Notify call the fake server received.
type shown struct {
	id            uint32
	summary, body string
	actions       []string
}

// fakeServer is a freedesktop notification server, as GNOME's or
// dunst's, on the test's bus.
type fakeServer struct {
	caps  []string
	next  uint32
	calls chan shown
}

func (s *fakeServer) GetCapabilities() ([]string, *dbus.Error) { return s.caps, nil }

func (s *fakeServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.next++
	s.calls <- shown{id: s.next, summary: summary, body: body, actions: actions}
	return s.next, nil
}

func serveNotifications(t *testing.T, addr string, caps ...string) (*fakeServer, *dbus.Conn) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &fakeServer{caps: caps, calls: make(chan shown, 8)}
	if err := conn.Export(s, notifyPath, notifyIface); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName(notifyName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", notifyName, r, err)
	}
	return s, conn
}

// offered waits until n keeps the buttons of note id: the server sees
// the note before Notify has its id back.
func offered(t *testing.T, n *Notifier, id uint32) {
	t.Helper()
	waitFor(t, "the note's buttons kept", func() bool { n.mu.Lock(); defer n.mu.Unlock(); return n.pending[id] != nil })
}

func (s *fakeServer) next1(t *testing.T) shown {
	t.Helper()
	select {
	case c := <-s.calls:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no notification shown")
		return shown{}
	}
}

// Issue 12: a spent hard cap's notification has "Allow one more hour",
// and pressing it on a real notification server lifts the cap; a brake
// note releases its session. Another client on the bus cannot press it.
func TestNotificationButtonsOverDBus(t *testing.T) {
	addr := privateBus(t)
	srv, srvConn := serveNotifications(t, addr, "body", "actions")
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
	defer func() { cancel(); <-done; <-done }()
	// The first menu is drawn once the tray follows the events.
	waitFor(t, "the menu", func() bool { m, _ := r.last(); return m != nil })

	core.bus.Publish(events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "daily", "level": "100", "mode": "hard", "spent": "20", "limit": "20"}})
	note := srv.next1(t)
	if !slices.Equal(note.actions, []string{ActionAllowHour, "Allow one more hour"}) || note.summary != "Ferry: budget daily at 100%" {
		t.Fatalf("shown %+v", note)
	}
	offered(t, n, note.id)

	// A stranger on the bus sends the same signal: nothing happens.
	other, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Emit(notifyPath, notifyIface+".ActionInvoked", note.id, ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	// The server's "default" (the body clicked) is no button of ours.
	if err := srvConn.Emit(notifyPath, notifyIface+".ActionInvoked", note.id, "default"); err != nil {
		t.Fatal(err)
	}
	core.bus.Publish(events.Event{Kind: events.BrakeFired, Attrs: map[string]string{"session": "sess-9", "repeats": "8"}})
	brake := srv.next1(t)
	if !slices.Equal(brake.actions, []string{ActionReleaseBrake, "Release brake for an hour"}) {
		t.Fatalf("brake note %+v", brake)
	}
	offered(t, n, brake.id)
	// Pressed twice (a server that does not close the note): once only.
	for range 2 {
		if err := srvConn.Emit(notifyPath, notifyIface+".ActionInvoked", brake.id, ActionReleaseBrake); err != nil {
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
	if err := srvConn.Emit(notifyPath, notifyIface+".ActionInvoked", note.id, ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the allowance", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.calls) >= 2 })
	// A closed note's button does nothing.
	core.bus.Publish(events.Event{Kind: events.BudgetAlert, Attrs: map[string]string{"budget": "monthly", "level": "100", "mode": "hard"}})
	closed := srv.next1(t)
	offered(t, n, closed.id)
	if err := srvConn.Emit(notifyPath, notifyIface+".NotificationClosed", closed.id, uint32(2)); err != nil {
		t.Fatal(err)
	}
	if err := srvConn.Emit(notifyPath, notifyIface+".ActionInvoked", closed.id, ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	// A last note, answered, proves the signals above were handled.
	core.bus.Publish(events.Event{Kind: events.BrakeFired, Attrs: map[string]string{"session": "sess-10", "repeats": "8"}})
	last := srv.next1(t)
	offered(t, n, last.id)
	if err := srvConn.Emit(notifyPath, notifyIface+".ActionInvoked", last.id, ActionReleaseBrake); err != nil {
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
	srv, _ := serveNotifications(t, addr, "body")
	n := NewNotifier(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := n.Notify(Note{Title: "t", Body: "b", Actions: []NoteAction{{Key: ActionAllowHour, Label: "Allow one more hour"}}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.next1(t); len(got.actions) != 0 || got.summary != "t" || got.body != "b" {
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

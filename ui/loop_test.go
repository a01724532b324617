package ui

import (
	"context"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// liveTrayApp is a tray app safe to use from the event goroutine: it
// records menus and notifications under a lock / on a channel.
type liveTrayApp struct {
	fyne.App
	mu    sync.Mutex
	menu  *fyne.Menu
	notes chan *fyne.Notification
}

func (a *liveTrayApp) SetSystemTrayMenu(m *fyne.Menu) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.menu = m
}
func (a *liveTrayApp) SetSystemTrayIcon(fyne.Resource)       {}
func (a *liveTrayApp) SetSystemTrayWindow(fyne.Window)       {}
func (a *liveTrayApp) SendNotification(n *fyne.Notification) { a.notes <- n }
func (a *liveTrayApp) pauseLabel() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.menu.Items[2].Label
}

// TestEventLoop runs the real event goroutine: notifications once per
// event, the tray rebuilt after a state change, and Quit ending it all.
func TestEventLoop(t *testing.T) {
	core := newFakeCore()
	a := &liveTrayApp{App: test.NewTempApp(t), notes: make(chan *fyne.Notification, 16)}
	quit := make(chan struct{})
	d, err := Run(a, core, Options{TrayAvailable: true, Autostart: &memAutostart{}, OnQuit: func(context.Context) error {
		close(quit)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		select {
		case n := <-a.notes:
			return n.Title
		case <-time.After(10 * time.Second):
			t.Fatal("no notification")
			return ""
		}
	}
	core.bus.Publish(events.Event{Kind: events.RouteDown, Route: "Direct", Detail: "refused"})
	core.bus.Publish(events.Event{Kind: events.RouteDown, Route: "Direct", Detail: "refused"})
	core.bus.Publish(events.Event{Kind: events.RouteUp, Route: "Direct", Latency: time.Millisecond})
	if got := next(); got != "Ferry: route down" {
		t.Fatalf("first notification %q", got)
	}
	if got := next(); got != "Ferry: route back up" {
		t.Fatalf("second notification %q (a duplicate 'down'?)", got)
	}

	if err := core.Pause(); err != nil { // publishes StateChanged
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.pauseLabel() != "Resume Ferry" {
		if time.Now().After(deadline) {
			t.Fatalf("tray not rebuilt after pausing: %q", a.pauseLabel())
		}
		time.Sleep(20 * time.Millisecond)
	}

	d.Quit()
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Quit did not finish")
	}
	select {
	case <-quit:
	default:
		t.Fatal("OnQuit not called")
	}
	select {
	case n := <-a.notes:
		t.Fatalf("unexpected notification %q", n.Title)
	default:
	}
}

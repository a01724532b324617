package dbusmenu_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"

	"github.com/ferry-gateway/ferry/ui/dbusmenu"
	"github.com/ferry-gateway/ferry/ui/internal/dbustest"
	"github.com/ferry-gateway/ferry/ui/tray"
)

func connect(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestTrayOverDBus runs the core's tray renderer (ui/tray on the real
// fyne.io/systray) against the fake watcher, then reads and clicks its
// menu the way a panel does.
func TestTrayOverDBus(t *testing.T) {
	if raceEnabled {
		t.Skip("fyne.io/systray has a data race between GetLayout and refresh (see race_test.go)")
	}
	addr := dbustest.PrivateBus(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	if tray.HostAvailable(ctx) {
		t.Fatal("TrayHostAvailable without a watcher")
	}
	w, err := dbusmenu.StartWatcher(connect(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := dbusmenu.StartWatcher(connect(t, addr)); err == nil {
		t.Fatal("a second watcher started")
	}
	if !tray.HostAvailable(ctx) {
		t.Fatal("TrayHostAvailable false with the watcher running")
	}

	clicked := make(chan string, 8)
	rec := func(name string) func() { return func() { clicked <- name } }
	state := tray.State{Lang: "en", Routes: []tray.Route{{Name: "Office", Checked: true, Up: true, LatencyMS: 182}, {Name: "Direct", Checked: true}},
		Choice: "Office", Current: "Office", StartAtLogin: true}
	menu := tray.Menu(state, tray.Actions{
		TogglePause: rec("pause"), UseRoute: func(n string) { clicked <- "use " + n }, ToggleStartAtLogin: rec("login"),
	})
	ready := make(chan struct{})
	start, end := systray.RunWithExternalLoop(func() {
		r := tray.NewSystray("linux")
		r.SetIcon(state.Icon())
		r.SetMenu(menu)
		close(ready)
	}, nil)
	start()
	defer end()
	<-ready

	c, err := dbusmenu.Connect(ctx, connect(t, addr), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if c.Service() != dbusmenu.ItemName(os.Getpid()) {
		t.Fatalf("service = %s", c.Service())
	}
	root, err := c.Layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	status := tray.StatusLine(state)
	if got, want := root.Labels(), []string{status, "---", "Pause Ferry", "Route", "---", "Copy base URL", "Copy Claude Code environment", "---", "Open dashboard", "Settings…", "Start at login", "---", "Quit Ferry"}; !slices.Equal(got, want) {
		t.Fatalf("menu = %q, want %q", got, want)
	}
	if it, _ := root.Find(status); it.Enabled {
		t.Error("status line enabled")
	}
	route, _ := root.Find("Route")
	if got, want := route.Labels(), []string{"Office · 182 ms", "Direct · down", "Auto (fastest)", "---", "Test latency now"}; !slices.Equal(got, want) {
		t.Fatalf("route submenu = %q, want %q", got, want)
	}
	if office, _ := route.Find("Office · 182 ms"); !office.Checkable || !office.Checked {
		t.Errorf("office = %+v, want checked", office)
	}
	if direct, _ := route.Find("Direct · down"); direct.Checked {
		t.Error("direct checked")
	}
	if login, _ := root.Find("Start at login"); !login.Checked {
		t.Error("Start at login not checked")
	}

	for _, c2 := range []struct{ label, name string }{{"Pause Ferry", "pause"}, {"Direct · down", "use Direct"}, {"Start at login", "login"}} {
		if err := c.ClickLabel(ctx, c2.label); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-clicked:
			if got != c2.name {
				t.Fatalf("clicking %q reached %q", c2.label, got)
			}
		case <-ctx.Done():
			t.Fatalf("click on %q not delivered", c2.label)
		}
	}
	if _, err := c.Find(ctx, "No such item"); err == nil {
		t.Fatal("found a missing label")
	}

	// The item registered itself with the watcher.
	deadline := time.Now().Add(10 * time.Second)
	for !slices.ContainsFunc(w.Items(), func(s string) bool { return strings.HasSuffix(s, "/StatusNotifierItem") }) {
		if time.Now().After(deadline) {
			t.Fatalf("watcher items = %q", w.Items())
		}
		time.Sleep(50 * time.Millisecond)
	}
	v, err := c.ItemProperty(ctx, "Status")
	if err != nil || v.Value() != "Active" {
		t.Errorf("item Status = %v, %v", v, err)
	}
}

// TestWatcherAlone checks the watcher's D-Bus face without systray, so it
// also runs under -race.
func TestWatcherAlone(t *testing.T) {
	addr := dbustest.PrivateBus(t)
	w, err := dbusmenu.StartWatcher(connect(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	item := connect(t, addr)
	if err := item.AddMatchSignal(dbus.WithMatchInterface("org.kde.StatusNotifierWatcher"), dbus.WithMatchMember("StatusNotifierItemRegistered")); err != nil {
		t.Fatal(err)
	}
	sig := make(chan *dbus.Signal, 4)
	item.Signal(sig)
	obj := item.Object(dbusmenu.WatcherName, dbusmenu.WatcherPath)
	if err := obj.CallWithContext(ctx, "org.kde.StatusNotifierWatcher.RegisterStatusNotifierItem", 0, "/StatusNotifierItem").Err; err != nil {
		t.Fatal(err)
	}
	want := item.Names()[0] + "/StatusNotifierItem"
	select {
	case s := <-sig:
		if len(s.Body) != 1 || s.Body[0] != want {
			t.Fatalf("signal body = %v, want %s", s.Body, want)
		}
	case <-ctx.Done():
		t.Fatal("no StatusNotifierItemRegistered signal")
	}
	var v dbus.Variant
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems").Store(&v); err != nil {
		t.Fatal(err)
	}
	if items, _ := v.Value().([]string); !slices.Equal(items, []string{want}) {
		t.Fatalf("RegisteredStatusNotifierItems = %v", v)
	}
	if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.kde.StatusNotifierWatcher", "IsStatusNotifierHostRegistered").Store(&v); err != nil || v.Value() != true {
		t.Fatalf("IsStatusNotifierHostRegistered = %v, %v", v, err)
	}
	// The item's connection leaves: it is dropped.
	item.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(w.Items()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("items after the owner left = %q", w.Items())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

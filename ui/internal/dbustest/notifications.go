package dbustest

import (
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// The freedesktop notification service's names.
const (
	NotifyName  = "org.freedesktop.Notifications"
	NotifyPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	NotifyIface = "org.freedesktop.Notifications"
)

// Shown is one notification the fake server was asked to show.
type Shown struct {
	ID            uint32
	Summary, Body string
	Actions       []string // key, label, key, label, …
}

// Notifications is a freedesktop notification server, as GNOME's or
// dunst's, on a test's bus: it records what it is asked to show, and
// presses and closes notes as a user would.
type Notifications struct {
	conn  *dbus.Conn
	shown chan Shown
}

// server is the exported D-Bus object.
type server struct {
	caps  []string
	next  uint32
	shown chan Shown
}

func (s *server) GetCapabilities() ([]string, *dbus.Error) { return s.caps, nil }

func (s *server) Notify(app string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.next++
	select {
	case s.shown <- Shown{ID: s.next, Summary: summary, Body: body, Actions: actions}:
	default: // a test that stopped reading
	}
	return s.next, nil
}

// ServeNotifications owns the notification service's name on the bus at
// addr ("" for the session bus of DBUS_SESSION_BUS_ADDRESS) until the test
// ends, offering caps ("actions" for buttons).
func ServeNotifications(t testing.TB, addr string, caps ...string) *Notifications {
	t.Helper()
	var conn *dbus.Conn
	var err error
	if addr == "" {
		conn, err = dbus.ConnectSessionBus()
	} else {
		conn, err = dbus.Connect(addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &server{caps: caps, shown: make(chan Shown, 64)}
	if err := conn.Export(s, NotifyPath, NotifyIface); err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName(NotifyName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", NotifyName, r, err)
	}
	return &Notifications{conn: conn, shown: s.shown}
}

// Next returns the next notification shown, failing the test after wait.
func (n *Notifications) Next(t testing.TB, wait time.Duration) Shown {
	t.Helper()
	select {
	case s := <-n.shown:
		return s
	case <-time.After(wait):
		t.Fatal("no notification shown")
		return Shown{}
	}
}

// Press presses the button key of note id (the ActionInvoked signal).
func (n *Notifications) Press(id uint32, key string) error {
	return n.conn.Emit(NotifyPath, NotifyIface+".ActionInvoked", id, key)
}

// Dismiss closes note id as the user would (NotificationClosed, reason 2).
func (n *Notifications) Dismiss(id uint32) error {
	return n.conn.Emit(NotifyPath, NotifyIface+".NotificationClosed", id, uint32(2))
}

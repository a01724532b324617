package dbusmenu

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"
)

// Names and paths of the StatusNotifierWatcher specification.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	WatcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	watcherIface = "org.kde.StatusNotifierWatcher"
)

// Watcher is a minimal StatusNotifierWatcher: it owns the well-known
// name, accepts item and host registrations, reports a host as
// registered, lists the items and announces each with the
// StatusNotifierItemRegistered signal. Items whose owner leaves the bus
// are dropped.
type Watcher struct {
	conn  *dbus.Conn
	props *prop.Properties

	mu    sync.Mutex
	items []string
	sig   chan *dbus.Signal
	done  chan struct{}
}

// StartWatcher claims org.kde.StatusNotifierWatcher on conn and serves it
// until Close. It fails with ErrNameTaken when another watcher runs.
func StartWatcher(conn *dbus.Conn) (*Watcher, error) {
	w := &Watcher{conn: conn, done: make(chan struct{})}
	if err := conn.Export(w, WatcherPath, watcherIface); err != nil {
		return nil, fmt.Errorf("export watcher: %w", err)
	}
	props, err := prop.Export(conn, WatcherPath, prop.Map{
		watcherIface: {
			"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
			"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
			"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("export watcher properties: %w", err)
	}
	w.props = props
	node := introspect.Node{
		Name: string(WatcherPath),
		Interfaces: []introspect.Interface{
			introspect.IntrospectData,
			prop.IntrospectData,
			{
				Name: watcherIface,
				Methods: []introspect.Method{
					{Name: "RegisterStatusNotifierItem", Args: []introspect.Arg{{Name: "service", Type: "s", Direction: "in"}}},
					{Name: "RegisterStatusNotifierHost", Args: []introspect.Arg{{Name: "service", Type: "s", Direction: "in"}}},
				},
				Signals: []introspect.Signal{
					{Name: "StatusNotifierItemRegistered", Args: []introspect.Arg{{Name: "service", Type: "s"}}},
					{Name: "StatusNotifierItemUnregistered", Args: []introspect.Arg{{Name: "service", Type: "s"}}},
					{Name: "StatusNotifierHostRegistered"},
				},
				Properties: props.Introspection(watcherIface),
			},
		},
	}
	if err := conn.Export(introspect.NewIntrospectable(&node), WatcherPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, fmt.Errorf("export introspection: %w", err)
	}
	if err := conn.AddMatchSignal(
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
	); err != nil {
		return nil, fmt.Errorf("watch name owners: %w", err)
	}
	w.sig = make(chan *dbus.Signal, 16)
	conn.Signal(w.sig)
	go w.followOwners()

	reply, err := conn.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("request %s: %w", WatcherName, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		w.Close()
		return nil, ErrNameTaken
	}
	return w, nil
}

// Close stops following owners and releases the name (the connection
// stays open: it is the caller's).
func (w *Watcher) Close() {
	select {
	case <-w.done:
		return
	default:
	}
	close(w.done)
	w.conn.RemoveSignal(w.sig)
	_, _ = w.conn.ReleaseName(WatcherName)
}

// Items lists the registered items ("busname/path" or "busname").
func (w *Watcher) Items() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.items)
}

// RegisterStatusNotifierItem is the D-Bus method. service is a bus name or
// an object path on the caller's connection (libappindicator and
// fyne.io/systray send the path).
func (w *Watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	id := service
	if strings.HasPrefix(service, "/") {
		id = string(sender) + service
	}
	w.mu.Lock()
	if !slices.Contains(w.items, id) {
		w.items = append(w.items, id)
	}
	items := slices.Clone(w.items)
	w.mu.Unlock()
	w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", items)
	if err := w.conn.Emit(WatcherPath, watcherIface+".StatusNotifierItemRegistered", id); err != nil {
		return dbus.MakeFailedError(err)
	}
	return nil
}

// RegisterStatusNotifierHost is the D-Bus method; a host is always
// reported as registered anyway.
func (w *Watcher) RegisterStatusNotifierHost(sender dbus.Sender, service string) *dbus.Error {
	if err := w.conn.Emit(WatcherPath, watcherIface+".StatusNotifierHostRegistered"); err != nil {
		return dbus.MakeFailedError(err)
	}
	return nil
}

// followOwners drops the items of a connection that left the bus.
func (w *Watcher) followOwners() {
	for {
		select {
		case <-w.done:
			return
		case s, ok := <-w.sig:
			if !ok {
				return
			}
			if s.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(s.Body) < 3 {
				continue
			}
			name, _ := s.Body[0].(string)
			newOwner, _ := s.Body[2].(string)
			if newOwner != "" {
				continue
			}
			w.drop(name)
		}
	}
}

func (w *Watcher) drop(name string) {
	w.mu.Lock()
	var gone []string
	w.items = slices.DeleteFunc(w.items, func(id string) bool {
		if id == name || strings.HasPrefix(id, name+"/") {
			gone = append(gone, id)
			return true
		}
		return false
	})
	items := slices.Clone(w.items)
	w.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", items)
	for _, id := range gone {
		_ = w.conn.Emit(WatcherPath, watcherIface+".StatusNotifierItemUnregistered", id)
	}
}

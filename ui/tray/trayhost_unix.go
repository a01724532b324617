//go:build linux || freebsd || openbsd || netbsd

package tray

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// HostAvailable reports whether a tray host will show Ferry's icon:
// on Linux and the BSDs, the tray is a StatusNotifierItem, shown only
// when some process owns org.kde.StatusNotifierWatcher on the session bus
// and says a host is registered (GNOME without the AppIndicator extension
// has none). fyne.io/systray itself gives no signal, so the core asks here first.
// Any failure (no session bus, timeout) counts as "no tray host".
func HostAvailable(ctx context.Context) bool {
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return false
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&owned); err != nil || !owned {
		return false
	}
	var v dbus.Variant
	err = conn.Object(watcherName, watcherPath).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		watcherName, "IsStatusNotifierHostRegistered").Store(&v)
	if err != nil {
		// A watcher without the property (some minimal ones) still shows
		// items: trust that it owns the name.
		return true
	}
	registered, ok := v.Value().(bool)
	return !ok || registered
}

const (
	watcherName = "org.kde.StatusNotifierWatcher"
	watcherPath = dbus.ObjectPath("/StatusNotifierWatcher")
)

// Command sniwatcher is a minimal org.kde.StatusNotifierWatcher for tests:
// run it on a private session bus (dbus-run-session) before starting
// Ferry, and Ferry's tray icon registers as it would on a KDE or
// AppIndicator desktop. It prints "ready" on stdout once it owns the
// name, and "registered <item>" for each item, then serves until
// SIGINT/SIGTERM.
//
//	dbus-run-session -- sh -c 'sniwatcher > watcher.log & …; ferry'
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/godbus/dbus/v5"

	"github.com/ferry-gateway/ferry/ui/dbusmenu"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sniwatcher:", err)
		if errors.Is(err, dbusmenu.ErrNameTaken) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	defer conn.Close()
	if err := conn.AddMatchSignal(
		dbus.WithMatchInterface("org.kde.StatusNotifierWatcher"),
		dbus.WithMatchMember("StatusNotifierItemRegistered"),
	); err != nil {
		return fmt.Errorf("match own signals: %w", err)
	}
	sig := make(chan *dbus.Signal, 16)
	conn.Signal(sig)
	w, err := dbusmenu.StartWatcher(conn)
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Println("ready")
	for {
		select {
		case <-ctx.Done():
			return nil
		case s, ok := <-sig:
			if !ok {
				return errors.New("bus connection closed")
			}
			if s.Name == "org.kde.StatusNotifierWatcher.StatusNotifierItemRegistered" && len(s.Body) == 1 {
				fmt.Println("registered", s.Body[0])
			}
		}
	}
}

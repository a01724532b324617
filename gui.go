//go:build !headless

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2/app"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/cli"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui"
	"github.com/ferry-gateway/ferry/ui/corebridge"
)

// appID is Ferry's application id, as in FyneApp.toml.
const appID = "dev.ferry.app"

var desktop cli.Desktop = runDesktop

// runDesktop runs the tray app around srv until the user quits (or a
// signal ends ctx); it returns after a clean shutdown.
func runDesktop(ctx context.Context, srv *app.Server, firstRun bool) error {
	if err := displayError(); err != nil {
		return err
	}
	a := app.NewWithID(appID)
	probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	trayOK := ui.TrayHostAvailable(probeCtx)
	cancel()

	var restart atomic.Bool
	var d *ui.Desktop
	d, err := ui.Run(a, corebridge.New(srv), ui.Options{
		FirstRun:      firstRun,
		TrayAvailable: trayOK,
		OnQuit:        srv.Stop,
		Restart: func() {
			restart.Store(true)
			d.Quit()
		},
		Logger: srv.Config().Logger,
	})
	if err != nil {
		return err
	}
	srv.SetShowDashboard(d.ShowDashboard)
	if err := srv.StartError(); err != nil {
		// Published again now that the desktop listens: the first went out
		// before it subscribed. The notification says why and how to fix it.
		srv.Bus().Publish(events.Event{Kind: events.ListenFailed, Detail: err.Error()})
	}
	// SIGINT/SIGTERM quit as the menu's Quit does: drain, flush, close.
	go func() {
		select {
		case <-ctx.Done():
			d.Quit()
		case <-d.Done():
		}
	}()
	a.Run()
	<-d.Done()
	if restart.Load() {
		return relaunch()
	}
	return nil
}

// relaunch starts a new Ferry with the same arguments and environment (the
// language variables ui.ApplyLanguage set included), after this one has
// shut down and released the database.
func relaunch() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// displayError says why no window can open on Linux and the BSDs, before
// GLFW would panic on it: no display at all (an SSH session), or an X
// display whose socket does not answer.
func displayError() error {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
	default:
		return nil
	}
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		return nil
	}
	display := os.Getenv("DISPLAY")
	if display == "" {
		return errors.New("no display to show the tray app on (DISPLAY and WAYLAND_DISPLAY are unset): run `ferry serve` for the proxy alone")
	}
	// Only a local display ":N" or ":N.S" has a socket to check.
	num, ok := strings.CutPrefix(display, ":")
	if !ok {
		return nil
	}
	num, _, _ = strings.Cut(num, ".")
	sock := "/tmp/.X11-unix/X" + num
	var err error
	// The socket file, else Linux's abstract socket of the same name.
	for _, addr := range []string{sock, "@" + sock} {
		var c net.Conn
		if c, err = net.DialTimeout("unix", addr, 2*time.Second); err == nil {
			return c.Close()
		}
	}
	return fmt.Errorf("the X display %s does not answer (%v): start Ferry inside your desktop session, or run `ferry serve`", display, err)
}

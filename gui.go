//go:build !headless

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	fyneapp "fyne.io/fyne/v2/app"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/cli"
	"github.com/ferry-gateway/ferry/ui/desktop"
)

// appID is Ferry's application id, as in FyneApp.toml.
const appID = "dev.ferry.app"

var desktopRun cli.Desktop = runDesktop

var windowRun cli.Window = runWindow

// runDesktop runs the tray (in this process) and the windows (in a child
// process, on demand) around srv until the user quits or a signal ends
// ctx.
func runDesktop(ctx context.Context, srv *app.Server, firstRun bool) error {
	if err := displayError(); err != nil {
		return err
	}
	return desktop.Run(ctx, srv, desktop.Options{FirstRun: firstRun, Logger: srv.Config().Logger})
}

// runWindow is `ferry window KIND`, the window process the core starts.
func runWindow(args []string) error {
	if err := displayError(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return desktop.RunWindow(fyneapp.NewWithID(appID), args, log)
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

package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/assets"
	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/autostart"
)

// Window kinds Run and Show accept (the same names as ui/winproc's).
const (
	WindowDashboard = "dashboard"
	WindowSettings  = "settings"
	WindowWelcome   = "welcome"
	WindowSetup     = "setup"
)

// dashRefresh is the least time between two dashboard refreshes: events
// can come a hundred a second, the dashboard needs one refresh a second.
const dashRefresh = time.Second

// settingsRequestsRefresh is the least time between two refreshes of the
// open settings pages' status parts when only requests finished (they
// move a budget's bar); any other event (a budget alert, a setting
// changed, the brake) refreshes them on dashRefresh's schedule. The
// pages query the core on the main goroutine, as their buttons do.
const settingsRequestsRefresh = 5 * time.Second

// Options configure Run. The zero value is valid.
type Options struct {
	// Show is the first window: WindowDashboard (the default),
	// WindowSettings, WindowWelcome or WindowSetup.
	Show string
	// Main says Ferry has no tray: the dashboard is its main window, with
	// a Quit button, and closing it quits Ferry (the core sees the window
	// process end).
	Main bool
	// OnQuit, when set, runs after the windows closed, before the app
	// quits. It gets a context with a deadline.
	OnQuit func(ctx context.Context) error
	// Restart, when set, is offered after a language change. In the window
	// process it is nil: the core restarts the window process itself when
	// the language changes.
	Restart func()
	// Autostart registers Ferry to start at login; nil uses autostart.New
	// with os.Executable().
	Autostart autostart.Autostart
	// Logger receives the UI's errors; nil discards them.
	Logger *slog.Logger
	// GOOS selects the form of copied shell commands; "" is runtime.GOOS.
	GOOS string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Home is the user's home folder for "Check my setup"; "" is
	// os.UserHomeDir().
	Home string
	// Getenv reads the session environment for "Check my setup"; nil is
	// os.Getenv.
	Getenv func(string) string

	// testSync, for this package's tests, runs background work inline and
	// starts no event goroutine: Fyne's test driver runs fyne.Do inline
	// too, so widgets are then only touched from the test's goroutine.
	testSync bool
}

// Desktop is the window process's app: its windows and the goroutine
// that follows the core's events.
type Desktop struct {
	app  fyne.App
	core Core
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}
	done   chan struct{}
	// mu orders wg.Add against Quit's wg.Wait: no goroutine starts once
	// quitting is set.
	mu       sync.Mutex
	quitting bool

	// refreshMu lets one dashboard refresh run at a time.
	refreshMu sync.Mutex
	// dashMu guards dash for the refreshing goroutines; the main
	// goroutine writes it.
	dashMu sync.Mutex

	// Owned by Fyne's main goroutine.
	dash        *dashboard
	dashWin     fyne.Window
	settingsWin fyne.Window
	welcomeWin  fyne.Window
	setupWin    fyne.Window
	dashVisible atomic.Bool
	// settingsOpen: the settings window is open and live holds its
	// pages' status refreshers (main goroutine only).
	settingsOpen atomic.Bool
	live         []func()
	// do runs f on Fyne's main goroutine (fyne.Do). Fyne's test driver
	// runs it at once on the caller's goroutine instead, so a test of the
	// event loop hands it to the test's own goroutine.
	do func(f func())
}

// Run sets the window process's app up around core: the language, the
// first window, and the goroutine following the core's events. It
// returns at once; the caller then runs a.Run(), which returns when the
// last window closed. Call it on the main goroutine before a.Run.
func Run(a fyne.App, core Core, opts Options) (*Desktop, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.GOOS == "" {
		opts.GOOS = runtime.GOOS
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Show == "" {
		opts.Show = WindowDashboard
	}
	if opts.Autostart == nil {
		as, err := autostart.New("")
		if err != nil {
			opts.Logger.Warn("start at login unavailable", "err", err)
			as = autostart.Unavailable{Err: err}
		}
		opts.Autostart = as
	}
	st, err := core.Settings()
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	if err := ApplyLanguage(st.Language); err != nil {
		opts.Logger.Warn("language", "err", err)
	}
	// The core's own texts (a setting's help, why a value was refused) in
	// the windows' language too.
	if l, ok := core.(interface{ SetLanguage(tag string) }); ok {
		l.SetLanguage(i18n.Resolve(st.Language))
	}
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))

	ctx, cancel := context.WithCancel(context.Background())
	d := &Desktop{
		app: a, core: core, opts: opts, log: opts.Logger,
		ctx: ctx, cancel: cancel,
		kick: make(chan struct{}, 1),
		do:   fyne.Do,
		done: make(chan struct{}),
	}
	if !opts.testSync {
		// Subscribed before the first window reads the core: whatever
		// changes after the read arrives as an event.
		ch, unsubscribe := core.Subscribe(256)
		d.wg.Add(1)
		go d.loop(ch, unsubscribe)
	}
	d.show(opts.Show)
	return d, nil
}

// Done is closed when Quit has finished.
func (d *Desktop) Done() <-chan struct{} { return d.done }

// Show opens (or raises) the window kind. Safe from any goroutine: the
// core's "show" commands arrive on the pipe's goroutine.
func (d *Desktop) Show(kind string) { fyne.Do(func() { d.show(kind) }) }

// ShowDashboard opens (or raises) the dashboard. Safe from any goroutine.
func (d *Desktop) ShowDashboard() { d.Show(WindowDashboard) }

// ShowSettings opens (or raises) the settings window. Safe from any
// goroutine.
func (d *Desktop) ShowSettings() { d.Show(WindowSettings) }

// show opens kind on the main goroutine.
func (d *Desktop) show(kind string) {
	switch kind {
	case WindowSettings:
		d.showSettings()
	case WindowWelcome:
		d.showWelcome()
	case WindowSetup:
		d.showSetupWindow()
	default:
		d.showDashboard()
	}
}

// closeShortcut lets Ctrl+W (Cmd+W on macOS) close w, as in most
// desktop apps; the window's OnClosed does the rest.
func closeShortcut(w fyne.Window) {
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { w.Close() })
}

// currentDash is the open dashboard, nil when closed; safe from any
// goroutine.
func (d *Desktop) currentDash() *dashboard {
	d.dashMu.Lock()
	defer d.dashMu.Unlock()
	return d.dash
}

func (d *Desktop) setDash(db *dashboard) {
	d.dashMu.Lock()
	d.dash = db
	d.dashMu.Unlock()
}

// closed is called when a window closed: the last one ends the app, and
// with it the window process (Fyne quits when no window is left; this
// says so for the test driver too).
func (d *Desktop) closed() {
	if d.dashWin == nil && d.settingsWin == nil && d.welcomeWin == nil && d.setupWin == nil {
		d.Quit()
	}
}

// Quit closes every window, ends the event goroutine, runs opts.OnQuit,
// then quits the app. Safe from any goroutine; only the first call does
// anything.
func (d *Desktop) Quit() {
	d.mu.Lock()
	if d.quitting {
		d.mu.Unlock()
		return
	}
	d.quitting = true
	d.mu.Unlock()
	d.cancel()
	// Not d.background: this goroutine waits for those.
	finish := func() {
		d.wg.Wait()
		if d.opts.OnQuit != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := d.opts.OnQuit(ctx); err != nil {
				d.log.Error("shut down", "err", err)
			}
			cancel()
		}
		fyne.Do(d.app.Quit)
		close(d.done)
	}
	if d.opts.testSync {
		finish()
	} else {
		go finish()
	}
}

// loop follows the core's events and refreshes the dashboard, while it is
// open, at most once a second: it updates as things happen instead of
// polling, and idles when nothing happens.
func (d *Desktop) loop(ch <-chan events.Event, unsubscribe func()) {
	defer d.wg.Done()
	defer unsubscribe()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var last, lastSettings time.Time
	var due time.Time // when the timer fires; zero while it is not armed
	schedule := func(gap time.Duration) {
		at := time.Now().Add(max(0, gap))
		if !due.IsZero() && !at.Before(due) {
			return // an earlier tick is armed already
		}
		due = at
		timer.Reset(max(0, gap))
	}
	// What is due at the next tick: the dashboard after any event; the
	// settings pages after any event but a finished request (settingsNow),
	// or after requests once settingsRequestsRefresh has passed.
	var dashDue, settingsNow, settingsReqs bool
	for {
		select {
		case <-d.ctx.Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			// Every event (a gap too: it says events were lost) can change
			// what the dashboard shows.
			dashDue = true
			if e.Kind == events.RequestFinished {
				settingsReqs = true
			} else {
				settingsNow = true
			}
			schedule(dashRefresh - time.Since(last))
		case <-d.kick:
			dashDue, settingsNow = true, true
			schedule(dashRefresh - time.Since(last))
		case <-timer.C:
			due = time.Time{}
			if dashDue {
				dashDue, last = false, time.Now()
				if d.dashVisible.Load() {
					d.refreshDashboard()
				}
			}
			if !d.settingsOpen.Load() {
				settingsNow, settingsReqs = false, false
				continue
			}
			if wait := settingsRequestsRefresh - time.Since(lastSettings); settingsNow || settingsReqs && wait <= 0 {
				settingsNow, settingsReqs, lastSettings = false, false, time.Now()
				d.do(d.refreshSettings)
			} else if settingsReqs {
				schedule(wait)
			}
		}
	}
}

// followLive registers f, a settings page's refresh of what it shows of
// the core's state (never what the user is editing), to run while the
// settings window is open. Main goroutine only.
func (d *Desktop) followLive(f func()) { d.live = append(d.live, f) }

// refreshSettings runs the open settings pages' refreshers. Main
// goroutine only.
func (d *Desktop) refreshSettings() {
	for _, f := range d.live {
		f()
	}
}

// wake asks the loop to refresh the dashboard soon.
func (d *Desktop) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *Desktop) queryCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(d.ctx, 5*time.Second)
}

func (d *Desktop) togglePause() {
	if d.core.Paused() {
		d.report(d.core.Resume())
	} else {
		d.report(d.core.Pause())
	}
	d.wake()
}

func (d *Desktop) claudeEnvironment() string {
	return ClaudeEnvironment(d.core.BaseURL(), d.core.LocalToken(), d.opts.GOOS)
}

// testAllRoutes probes every route on a goroutine the Desktop owns;
// results arrive as events.
func (d *Desktop) testAllRoutes() {
	d.background(func() {
		ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
		defer cancel()
		if err := d.core.TestAllRoutes(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.report(err)
		}
		d.wake()
	})
}

// background runs f on a goroutine the Desktop owns (Quit waits for it).
func (d *Desktop) background(f func()) {
	if d.opts.testSync {
		f()
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.quitting {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		f()
	}()
}

// report logs err and tells the user; nil does nothing.
func (d *Desktop) report(err error) {
	if err == nil {
		return
	}
	d.log.Error("action failed", "err", err)
	n := fyne.NewNotification(lang.L("Ferry"), err.Error())
	fyne.Do(func() { d.app.SendNotification(n) })
}

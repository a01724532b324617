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
	"fyne.io/fyne/v2/theme"

	"github.com/ferry-gateway/ferry/assets"
	"github.com/ferry-gateway/ferry/proxy/events"
)

// Options configure Run. The zero value is valid and runs without a tray
// (TrayAvailable false).
type Options struct {
	// FirstRun opens the welcome window (base URL, local token, a button
	// to the settings).
	FirstRun bool
	// TrayAvailable says a tray host answers (TrayHostAvailable). When
	// false, or when the app has no tray support, the dashboard opens as
	// the main window, says why, and closing it quits Ferry.
	TrayAvailable bool
	// OnQuit shuts the core down (stop accepting, drain, flush, close the
	// database) before the app quits. It gets a context with a deadline.
	OnQuit func(ctx context.Context) error
	// Restart, when set, relaunches Ferry after a clean shutdown; the
	// settings window offers it after a language change. Run has already
	// set the language variables in this process's environment, so a
	// restart with os.Environ() keeps the choice.
	Restart func()
	// Autostart registers Ferry to start at login; nil uses
	// NewAutostart with os.Executable().
	Autostart Autostart
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

// Desktop is the running desktop app: tray, windows and the goroutine
// that follows the core's events.
type Desktop struct {
	app  fyne.App
	core Core
	opts Options
	log  *slog.Logger
	tray desktop.App // nil without a tray

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{}
	done   chan struct{}
	// mu orders wg.Add against Quit's wg.Wait: no goroutine starts once
	// quitting is set.
	mu       sync.Mutex
	quitting bool

	// Owned by the loop goroutine.
	trayState TrayState
	trayIcon  IconState
	trayBuilt bool
	notes     *notifier

	// Owned by Fyne's main goroutine.
	dash        *dashboard
	dashWin     fyne.Window
	settingsWin fyne.Window
	welcomeWin  fyne.Window
	dashVisible atomic.Bool
}

// Run sets the app up around core: language, tray (when a.(desktop.App)
// and opts.TrayAvailable), the welcome window on the first run, the
// fallback window without a tray, and the goroutine following the core's
// events. It returns at once; the caller then runs a.Run(). Call it on the
// main goroutine before a.Run.
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
	if opts.Autostart == nil {
		as, err := NewAutostart("")
		if err != nil {
			opts.Logger.Warn("start at login unavailable", "err", err)
			as = noAutostart{err: err}
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
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))

	ctx, cancel := context.WithCancel(context.Background())
	d := &Desktop{
		app: a, core: core, opts: opts, log: opts.Logger,
		ctx: ctx, cancel: cancel,
		kick:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		notes: newNotifier(),
	}
	if t, ok := a.(desktop.App); ok && opts.TrayAvailable {
		d.tray = t
		// Set a first menu now so the tray registers before a.Run; the
		// loop replaces it once it has read the stats.
		d.refreshTray(true)
	}
	if !opts.testSync {
		ch, unsubscribe := core.Subscribe(256)
		d.wg.Add(1)
		go d.loop(ch, unsubscribe)
	}

	if d.tray == nil {
		d.showDashboard()
	}
	if opts.FirstRun {
		d.showWelcome()
	}
	return d, nil
}

// Done is closed when Quit has finished (core shut down, app told to quit).
func (d *Desktop) Done() <-chan struct{} { return d.done }

// ShowDashboard opens (or raises) the dashboard. Safe from any goroutine:
// main calls it when a second launch asks the running Ferry to show
// itself.
func (d *Desktop) ShowDashboard() { fyne.Do(d.showDashboard) }

// ShowSettings opens (or raises) the settings window. Safe from any
// goroutine.
func (d *Desktop) ShowSettings() { fyne.Do(d.showSettings) }

// Quit ends the event goroutine, shuts the core down through
// opts.OnQuit, then quits the app. Safe from any goroutine; only the first
// call does anything.
func (d *Desktop) Quit() {
	d.mu.Lock()
	if d.quitting {
		d.mu.Unlock()
		return
	}
	d.quitting = true
	d.mu.Unlock()
	d.cancel()
	// Windows go at once; the shutdown (drain, flush) may take a moment.
	fyne.Do(func() {
		for _, w := range []fyne.Window{d.dashWin, d.settingsWin, d.welcomeWin} {
			if w != nil {
				w.Hide()
			}
		}
	})
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

// loop follows the core's events: notifications at once, the tray at most
// once a second, the dashboard once a second while it is visible.
func (d *Desktop) loop(ch <-chan events.Event, unsubscribe func()) {
	defer d.wg.Done()
	defer unsubscribe()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	dirty := false
	requests := 0
	lastStats := d.opts.Now()
	for {
		select {
		case <-d.ctx.Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			if n := d.notes.handle(e); n != nil {
				fyne.Do(func() { d.app.SendNotification(n) })
			}
			if e.Kind == events.RequestFinished {
				requests++
			} else {
				dirty = true
			}
		case <-d.kick:
			dirty = true
		case <-tick.C:
			now := d.opts.Now()
			// Requests only move today's spend and count: refresh for them
			// every 5 s, so a busy proxy does not cost a stats query per
			// second.
			if requests > 0 && now.Sub(lastStats) >= 5*time.Second {
				dirty = true
			}
			if dirty && d.tray != nil {
				d.refreshTray(false)
				requests, lastStats = 0, now
			}
			dirty = false
			if d.dashVisible.Load() {
				d.refreshDashboard()
			}
		}
	}
}

// wake asks the loop to rebuild the tray at the next tick.
func (d *Desktop) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

func (d *Desktop) queryCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(d.ctx, 5*time.Second)
}

// currentTrayState reads the state from the core. It may run on any
// goroutine.
func (d *Desktop) currentTrayState() TrayState {
	ctx, cancel := d.queryCtx()
	defer cancel()
	now := d.opts.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	today, err := d.core.Stats(ctx, day, now)
	if err != nil && !errors.Is(err, context.Canceled) {
		d.log.Warn("today's stats", "err", err)
	}
	login, _ := d.opts.Autostart.Enabled()
	return TrayStateFrom(d.core.Routes(), d.core.Choice(), d.core.Paused(), today, login)
}

// refreshTray rebuilds the menu and icon when the state changed (or
// always when force). On the loop goroutine it hands the result to Fyne's
// main goroutine; Run calls it with force before the loop starts.
func (d *Desktop) refreshTray(force bool) {
	s := d.currentTrayState()
	if !force && d.trayBuilt && s.Equal(d.trayState) {
		return
	}
	icon := s.Icon()
	setIcon := force || !d.trayBuilt || icon != d.trayIcon
	d.trayState, d.trayIcon, d.trayBuilt = s, icon, true
	menu := TrayMenu(s, d.trayActions())
	apply := func() {
		d.tray.SetSystemTrayMenu(menu)
		if setIcon {
			d.tray.SetSystemTrayIcon(d.trayIconResource(icon))
		}
	}
	if force {
		apply()
	} else {
		fyne.Do(apply)
	}
}

func (d *Desktop) trayIconResource(st IconState) fyne.Resource {
	dark := d.app.Settings().ThemeVariant() == theme.VariantDark
	return TrayIcon(st, dark, d.opts.GOOS == "darwin")
}

// trayActions are the menu callbacks; Fyne runs them on its main
// goroutine.
func (d *Desktop) trayActions() TrayActions {
	return TrayActions{
		TogglePause:     d.togglePause,
		UseRoute:        func(name string) { d.report(d.core.UseRoute(name)); d.wake() },
		UseAuto:         func() { d.report(d.core.UseAuto()); d.wake() },
		TestLatency:     d.testAllRoutes,
		CopyBaseURL:     func() { d.app.Clipboard().SetContent(d.core.BaseURL()) },
		CopyEnvironment: func() { d.app.Clipboard().SetContent(d.claudeEnvironment()) },
		OpenDashboard:   d.showDashboard,
		OpenSettings:    d.showSettings,
		ToggleStartAtLogin: func() {
			on, _ := d.opts.Autostart.Enabled()
			d.report(d.opts.Autostart.SetEnabled(!on))
			d.wake()
		},
		Quit: d.Quit,
	}
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

// Package desktop assembles Ferry's desktop around a running core, in two
// processes (issue 13):
//
//   - Run, in the `ferry` process: the tray (ui/tray on fyne.io/systray:
//     no GL, no window loop), notifications, the second-launch handler, and
//     the supervisor of the window process (ui/winproc). Idle, the core
//     with its tray does nothing at all.
//   - RunWindow, in `ferry window KIND`: Fyne and the windows (package ui),
//     talking to the core only through its admin API (ui/adminclient).
//
// It is the one place that knows both the core (proxy/app) and the
// desktop's parts; main only wires it in.
package desktop

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"fyne.io/systray"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/autostart"
	"github.com/ferry-gateway/ferry/ui/tray"
	"github.com/ferry-gateway/ferry/ui/winproc"
)

// Options configure Run.
type Options struct {
	// FirstRun opens the welcome window.
	FirstRun bool
	Logger   *slog.Logger
}

// Run shows the desktop around srv until the user quits (or ctx ends):
// the tray when a tray host answers, else the dashboard as Ferry's main
// window (closing it quits). It must run on the main goroutine (macOS
// needs the tray there). The caller stops srv afterwards; Run returns
// only once the window process has ended.
func Run(ctx context.Context, srv *app.Server, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	probe, cancel := context.WithTimeout(ctx, 2*time.Second)
	trayOK := tray.HostAvailable(probe)
	cancel()

	core := serverCore{srv}
	quit := make(chan struct{})
	var quitOnce sync.Once
	requestQuit := func() { quitOnce.Do(func() { close(quit) }) }

	notifier := tray.NewNotifier(log)
	// Closed after the loops below (deferred first, so it runs last): the
	// tray may notify until its loop ends.
	defer notifier.Close()
	notify := func(n tray.Note) {
		if err := notifier.Notify(n); err != nil {
			log.Warn("desktop notification", "err", err)
		}
	}
	var t *tray.Tray
	sup := winproc.New(winproc.Options{
		Hello: func() winproc.Hello {
			return winproc.Hello{Admin: srv.BaseURL(), Token: srv.AdminToken(), Language: srv.Language(), Main: !trayOK}
		},
		Logger: log,
		Main:   !trayOK,
		OnExit: func(crashed bool) {
			switch {
			case !trayOK && crashed:
				log.Error("quitting: the dashboard, Ferry's only window here, crashed twice")
				requestQuit()
			case !trayOK:
				requestQuit() // the main window closed
			case t != nil:
				t.Refresh() // the tray says the windows stopped
			}
		},
	})
	show := func(kind string) {
		if err := sup.Show(kind); err != nil {
			log.Error("open a window", "window", kind, "err", err)
		}
	}
	// Without a tray host the tray's logic still runs, drawing nothing:
	// it turns the core's events into notifications with their buttons.
	var menu tray.Renderer = tray.NoMenu{}
	var as tray.Autostart
	if trayOK {
		a, err := autostart.New("")
		if err != nil {
			log.Warn("start at login unavailable", "err", err)
			a = autostart.Unavailable{Err: err}
		}
		menu, as = tray.NewSystray(runtime.GOOS), a
	}
	t = tray.New(core, menu, tray.Options{
		OpenWindow:     show,
		WindowsStopped: sup.Stopped,
		Copy:           tray.Copy,
		Notify:         notify,
		Quit:           requestQuit,
		Autostart:      as,
		Guard:          serverGuard{srv},
		CacheOn:        srv.Cache().On,
		Logger:         log,
		GOOS:           runtime.GOOS,
	})
	srv.SetShowDashboard(func() { show(winproc.Dashboard) })
	defer srv.SetShowDashboard(nil)

	// The loops below end with loopCtx, after the window process.
	loopCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var loops sync.WaitGroup
	defer loops.Wait()
	defer stopLoops()
	loops.Add(1)
	go func() {
		defer loops.Done()
		followLanguage(loopCtx, core, sup)
	}()
	loops.Add(1)
	go func() {
		defer loops.Done()
		notifier.Run(loopCtx) // the notes' buttons
	}()
	loops.Add(1)
	go func() {
		defer loops.Done()
		select {
		case <-ctx.Done(): // SIGINT, SIGTERM: quit as the menu's Quit does
			requestQuit()
		case <-loopCtx.Done():
		}
	}()

	if err := srv.StartError(); err != nil {
		lang := i18n.Resolve(srv.Language())
		notify(tray.Note{Title: i18n.T(lang, "Ferry could not start its proxy"), Body: err.Error()})
	}

	// finish ends the window process first (Quit waits for it), then the
	// loops; the caller stops the core.
	finish := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sup.Quit(ctx)
	}

	if !trayOK {
		log.Info("no tray host answers: the dashboard is Ferry's main window; closing it quits")
		loops.Add(1)
		go func() {
			defer loops.Done()
			t.Run(loopCtx)
		}()
		show(winproc.Dashboard)
		if opts.FirstRun {
			show(winproc.Welcome)
		}
		<-quit
		finish()
		return nil
	}

	loops.Add(1)
	go func() {
		defer loops.Done()
		<-quit
		finish()
		systray.Quit() // returns systray.Run below
	}()
	systray.Run(func() {
		loops.Add(1)
		go func() {
			defer loops.Done()
			t.Run(loopCtx)
		}()
		if opts.FirstRun {
			show(winproc.Welcome)
		}
	}, nil)
	return nil
}

// followLanguage restarts the window process when the language changes
// (built widgets keep their labels), on the settings window where the
// change was made. The tray rebuilds its own labels on the same event.
func followLanguage(ctx context.Context, core serverCore, sup *winproc.Supervisor) {
	ch, unsubscribe := core.Subscribe(16)
	defer unsubscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			if e.Kind == events.SettingsChanged && e.Detail == app.KeyLanguage {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_ = sup.Restart(rctx, winproc.Settings)
				cancel()
			}
		}
	}
}

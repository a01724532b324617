package tray

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// Coalescing of menu rebuilds: at most one a second for what the user
// changed or a route did; a finished request only moves today's spend and
// count, so at 100 requests a second the menu (a D-Bus signal, and a
// stats query) is rebuilt every 5 s at most.
const (
	minRefresh         = time.Second
	minRequestsRefresh = 5 * time.Second
)

// Core is what the tray reads and changes of the core, in-process.
type Core interface {
	Paused() bool
	SetPaused(paused bool)
	Routes() []coreapi.RouteStatus
	// Choice is a route name or coreapi.AutoChoice.
	Choice() string
	// Use sets the choice: a route name or coreapi.AutoChoice.
	Use(choice string) error
	// TestAll probes every route now; results arrive as events.
	TestAll(ctx context.Context)
	// Today is today's spend and request count (local time).
	Today() (usd float64, requests int64, err error)
	// Language is the stored language choice (i18n.System, en, zh-CN).
	Language() string
	BaseURL() string
	LocalToken() string
	Subscribe(buf int) (<-chan events.Event, func())
}

// Renderer shows the menu: the systray (systray.go) or a test's fake.
type Renderer interface {
	SetMenu(items []Item)
	SetIcon(st IconState)
	SetTooltip(text string)
}

// Autostart is start at login (ui/autostart).
type Autostart interface {
	Enabled() (bool, error)
	SetEnabled(on bool) error
}

// Options configure a Tray. Nil funcs do nothing.
type Options struct {
	// OpenWindow opens a window ("dashboard", "settings") in the window
	// process.
	OpenWindow func(kind string)
	// WindowsStopped reports that the window process crashed too often.
	WindowsStopped func() bool
	// Copy puts text on the clipboard.
	Copy func(text string) error
	// Notify shows a desktop notification (Notifier.Notify).
	Notify func(Note)
	// Quit quits Ferry (waits for the window process, stops the core).
	Quit      func()
	Autostart Autostart
	// Guard is the spend guard; nil shows none of it.
	Guard GuardCore
	// CacheOn reports whether the dedup cache answers requests
	// (cache.Cache.On); nil never says the cache is off.
	CacheOn func() bool
	Logger  *slog.Logger
	// GOOS selects the form of the copied environment.
	GOOS string
}

// Tray keeps the tray menu and icon in step with the core.
type Tray struct {
	core Core
	r    Renderer
	opts Options
	log  *slog.Logger
	kick chan struct{}

	// Owned by Run's goroutine.
	state    State
	icon     IconState
	rendered bool
	notes    *notifier
	acts     Actions // the menu's and the notes' actions: built once, they only close over t
}

// New returns a tray; Run keeps it up to date.
func New(core Core, r Renderer, opts Options) *Tray {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Tray{core: core, r: r, opts: opts, log: opts.Logger, kick: make(chan struct{}, 1), notes: newNotifier()}
	t.acts = t.actions()
	return t
}

// Refresh asks Run to reread the state (at most one rebuild a second).
// Safe from any goroutine.
func (t *Tray) Refresh() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// Run shows the menu, then follows the core's events until ctx ends:
// notifications at once, menu rebuilds coalesced. Idle, it sleeps: no
// timer runs while nothing happens.
func (t *Tray) Run(ctx context.Context) {
	ch, unsubscribe := t.core.Subscribe(256)
	defer unsubscribe()
	// The notes offer the guard's actions only where there is a guard.
	var noteActs Actions
	if t.opts.Guard != nil {
		noteActs = t.acts
	}
	t.render()
	last := time.Now()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var due time.Time // zero: no rebuild scheduled
	schedule := func(gap time.Duration) {
		at := last.Add(gap)
		if now := time.Now(); at.Before(now) {
			at = now
		}
		if due.IsZero() || at.Before(due) {
			due = at
			timer.Reset(time.Until(at))
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			if t.opts.Notify != nil {
				if note, ok := t.notes.handle(t.lang(), e, noteActs); ok {
					t.opts.Notify(note)
				}
			}
			if e.Kind == events.RequestFinished {
				schedule(minRequestsRefresh)
			} else {
				schedule(minRefresh)
			}
		case <-t.kick:
			schedule(minRefresh)
		case <-timer.C:
			due = time.Time{}
			last = time.Now()
			t.render()
		}
	}
}

func (t *Tray) lang() string { return i18n.Resolve(t.core.Language()) }

// read is the state now.
func (t *Tray) read() State {
	routes, current := RoutesFrom(t.core.Routes(), t.core.Choice())
	s := State{Lang: t.lang(), Paused: t.core.Paused(), Routes: routes, Choice: t.core.Choice(), Current: current}
	usd, n, err := t.core.Today()
	if err != nil {
		t.log.Warn("today's stats for the tray", "err", err)
	}
	s.SpendCents, s.RequestsToday = Cents(usd), n
	if t.opts.Autostart != nil {
		s.StartAtLogin, _ = t.opts.Autostart.Enabled()
	}
	if t.opts.WindowsStopped != nil {
		s.WindowsStopped = t.opts.WindowsStopped()
	}
	if g := t.opts.Guard; g != nil {
		s.Guard = GuardFrom(g.Budgets(), g.Quota(), g.Brake(), time.Now(), time.Local)
	}
	if t.opts.CacheOn != nil {
		s.CacheOff = !t.opts.CacheOn()
	}
	return s
}

// render rebuilds the menu when the state changed, the icon when it did.
func (t *Tray) render() {
	s := t.read()
	if t.rendered && s.Equal(t.state) {
		return
	}
	icon := s.Icon()
	if !t.rendered || icon != t.icon {
		t.r.SetIcon(icon)
	}
	t.r.SetMenu(Menu(s, t.acts))
	t.r.SetTooltip("Ferry — " + StatusLine(s))
	t.state, t.icon, t.rendered = s, icon, true
}

func (t *Tray) actions() Actions {
	open := func(kind string) func() {
		return func() {
			if t.opts.OpenWindow != nil {
				t.opts.OpenWindow(kind)
			}
		}
	}
	return Actions{
		TogglePause: func() { t.core.SetPaused(!t.core.Paused()); t.Refresh() },
		UseRoute:    func(name string) { t.report(t.core.Use(name)); t.Refresh() },
		UseAuto:     func() { t.report(t.core.Use(coreapi.AutoChoice)); t.Refresh() },
		TestLatency: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			t.core.TestAll(ctx)
			t.Refresh()
		},
		CopyBaseURL:     func() { t.copy(t.core.BaseURL()) },
		CopyEnvironment: func() { t.copy(coreapi.ClaudeEnvironment(t.core.BaseURL(), t.core.LocalToken(), t.opts.GOOS)) },
		OpenDashboard:   open("dashboard"),
		OpenSettings:    open("settings"),
		ToggleStartAtLogin: func() {
			if t.opts.Autostart == nil {
				return
			}
			on, _ := t.opts.Autostart.Enabled()
			t.report(t.opts.Autostart.SetEnabled(!on))
			t.Refresh()
		},
		Quit: func() {
			if t.opts.Quit != nil {
				t.opts.Quit()
			}
		},
		AllowOneHour: func() {
			if t.opts.Guard != nil {
				t.report(t.opts.Guard.AllowBudgets(AllowFor))
				t.Refresh()
			}
		},
		ReleaseBrake: func(session string) {
			if t.opts.Guard != nil {
				t.report(t.opts.Guard.ReleaseBrake(session))
				t.Refresh()
			}
		},
	}
}

func (t *Tray) copy(text string) {
	if t.opts.Copy == nil {
		return
	}
	if err := t.opts.Copy(text); err != nil {
		t.log.Warn("copy to the clipboard", "err", err)
		// No clipboard tool: the welcome window shows the same values with
		// copy buttons of its own.
		if t.opts.OpenWindow != nil {
			t.opts.OpenWindow("welcome")
		}
	}
}

// report logs err and tells the user; nil does nothing.
func (t *Tray) report(err error) {
	if err == nil {
		return
	}
	t.log.Error("tray action failed", "err", err)
	if t.opts.Notify != nil {
		t.opts.Notify(Note{Title: "Ferry", Body: err.Error()})
	}
}

package tray

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// fakeCore is the core as the tray sees it, on a real events.Bus.
type fakeCore struct {
	bus      events.Bus
	paused   atomic.Bool
	requests atomic.Int64
	lang     atomic.Value // string
	reads    atomic.Int64 // Today calls: one per state read
}

func (c *fakeCore) Paused() bool { return c.paused.Load() }
func (c *fakeCore) SetPaused(p bool) {
	c.paused.Store(p)
	c.bus.Publish(events.Event{Kind: events.StateChanged})
}
func (c *fakeCore) Routes() []coreapi.RouteStatus {
	return []coreapi.RouteStatus{{Name: "Direct", Checked: true, Up: true, Latency: 20 * time.Millisecond, Current: true}}
}
func (c *fakeCore) Choice() string                                { return "Direct" }
func (c *fakeCore) Use(string) error                              { return nil }
func (c *fakeCore) TestAll(context.Context)                       {}
func (c *fakeCore) Language() string                              { l, _ := c.lang.Load().(string); return l }
func (c *fakeCore) BaseURL() string                               { return "http://127.0.0.1:7856" }
func (c *fakeCore) LocalToken() string                            { return "tok" }
func (c *fakeCore) Subscribe(n int) (<-chan events.Event, func()) { return c.bus.Subscribe(n) }
func (c *fakeCore) Today() (float64, int64, error) {
	c.reads.Add(1)
	return 0, c.requests.Load(), nil
}

// fakeRenderer records what the tray shows.
type fakeRenderer struct {
	mu    sync.Mutex
	menus [][]Item
	icons []IconState
}

func (r *fakeRenderer) SetMenu(items []Item) {
	r.mu.Lock()
	r.menus = append(r.menus, items)
	r.mu.Unlock()
}
func (r *fakeRenderer) SetIcon(st IconState) {
	r.mu.Lock()
	r.icons = append(r.icons, st)
	r.mu.Unlock()
}
func (r *fakeRenderer) SetTooltip(string) {}
func (r *fakeRenderer) last() ([]Item, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.menus) == 0 {
		return nil, 0
	}
	return r.menus[len(r.menus)-1], len(r.menus)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func TestTrayFollowsTheCoreCoalesced(t *testing.T) {
	core := &fakeCore{}
	core.lang.Store("en")
	r := &fakeRenderer{}
	tr := New(core, r, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "a first menu", func() bool { _, n := r.last(); return n == 1 })

	// The menu's Pause item pauses the core; the menu then says Resume.
	m, _ := r.last()
	item(t, m, "Pause Ferry").Do()
	waitFor(t, "Resume Ferry in the menu", func() bool {
		m, _ := r.last()
		_, ok := Find(m, "Resume Ferry")
		return ok
	})
	r.mu.Lock()
	icon := r.icons[len(r.icons)-1]
	r.mu.Unlock()
	if icon != IconPaused {
		t.Fatalf("icon %v after pausing", icon)
	}

	// A burst of finished requests: one rebuild carries them all, not one
	// per request (at 100 requests a second that would be 100 D-Bus
	// signals a second).
	_, before := r.last()
	reads := core.reads.Load()
	start := time.Now()
	for range 300 {
		core.requests.Add(1)
		core.bus.Publish(events.Event{Kind: events.RequestFinished})
	}
	waitFor(t, "the request count in the menu", func() bool {
		m, _ := r.last()
		return m != nil && m[0].Label == StatusLine(State{Lang: "en", Routes: []Route{{Name: "Direct", Checked: true, Up: true, LatencyMS: 20}}, Choice: "Direct", Current: "Direct", Paused: true, RequestsToday: 300})
	})
	_, after := r.last()
	elapsed := time.Since(start)
	if rebuilds, max := after-before, int(elapsed/minRequestsRefresh)+1; rebuilds > max {
		t.Fatalf("300 requests cost %d rebuilds in %v (want at most %d)", rebuilds, elapsed, max)
	}
	if n := core.reads.Load() - reads; n > int64(elapsed/minRequestsRefresh)+1 {
		t.Fatalf("300 requests cost %d state reads", n)
	}

	// Nothing happens: nothing runs (no rebuild, no read).
	reads = core.reads.Load()
	time.Sleep(1500 * time.Millisecond)
	if n := core.reads.Load() - reads; n != 0 {
		t.Fatalf("an idle tray read the state %d times", n)
	}

	// The language changes: the labels follow.
	core.lang.Store("zh-CN")
	core.bus.Publish(events.Event{Kind: events.SettingsChanged, Detail: "language"})
	waitFor(t, "Chinese labels", func() bool {
		m, _ := r.last()
		_, ok := Find(m, "退出 Ferry")
		return ok
	})
}

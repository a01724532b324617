package route

import (
	"context"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func TestManagerEventsOnTransitions(t *testing.T) {
	api := startFakeAPI(t)
	ms := testsupport.StartMicrosocks(t, "", "")
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(64)
	defer cancel()
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{Name: "Socks", URL: "socks5://" + ms.Addr}})
	m, err := NewManager(ManagerOptions{Settings: st, Dial: DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second}, Target: api.URL, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	count := func() (health, down, up int) {
		evs := drain(ch)
		return len(kinds(evs, events.RouteHealth)), len(kinds(evs, events.RouteDown)), len(kinds(evs, events.RouteUp))
	}
	steps := []struct {
		name             string
		do               func()
		health, down, up int
	}{
		{"first probe up", func() {}, 1, 0, 0},
		{"still up", func() {}, 1, 0, 0},
		{"proxy stops", ms.Stop, 1, 1, 0},
		{"still down: no second RouteDown", func() {}, 1, 0, 0},
		{"proxy back on the same port", func() { restartMicrosocks(t, ms.Addr) }, 1, 0, 1},
		{"still up again", func() {}, 1, 0, 0},
	}
	for _, s := range steps {
		s.do()
		m.TestNow(testCtx(t))
		h, d, u := count()
		if h != s.health || d != s.down || u != s.up {
			t.Fatalf("%s: health/down/up events = %d/%d/%d, want %d/%d/%d", s.name, h, d, u, s.health, s.down, s.up)
		}
	}
}

func TestManagerRunLoop(t *testing.T) {
	api := startFakeAPI(t)
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(256)
	defer cancel()
	m, err := NewManager(ManagerOptions{Target: api.URL, Dial: DialOptions{RootCAs: api.Roots}, Bus: bus, Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	seen := 0
	for seen < 3 {
		select {
		case e := <-ch:
			if e.Kind == events.RouteHealth && e.Up && e.Route == "Direct" {
				seen++
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no probe rounds")
		}
	}
	// Adding a route starts a round for it without waiting for the ticker.
	if err := m.Add(Route{Name: "Again", URL: "direct"}); err != nil {
		t.Fatal(err)
	}
	for again := false; !again; {
		select {
		case e := <-ch:
			again = e.Kind == events.RouteHealth && e.Route == "Again"
		case <-time.After(10 * time.Second):
			t.Fatal("the added route was never probed")
		}
	}
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not end with its context")
	}
	rs := m.Routes()
	if len(rs[0].History) < 3 || len(rs[0].History) > historyLen {
		t.Fatalf("history %v", rs[0].History)
	}
}

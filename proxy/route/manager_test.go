package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// mapSettings keeps settings as JSON, as storage does, so a value that does
// not round-trip fails here too.
type mapSettings struct {
	mu   sync.Mutex
	data map[string][]byte
	puts int
}

func (s *mapSettings) GetSetting(key string, into any) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, into)
}

func (s *mapSettings) PutSetting(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	s.data[key] = b
	s.puts++
	return nil
}

func (s *mapSettings) get(t *testing.T, key string, into any) bool {
	t.Helper()
	found, err := s.GetSetting(key, into)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func names(st []Status) string {
	var s []string
	for _, x := range st {
		mark := ""
		if x.Chosen {
			mark = "*"
		}
		if x.Via {
			mark += "(via)"
		}
		s = append(s, x.Name+mark)
	}
	return strings.Join(s, ",")
}

func current(t *testing.T, m *Manager) string {
	t.Helper()
	u, err := m.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Route.Name
}

// drain collects the events published so far.
func drain(ch <-chan events.Event) []events.Event {
	var out []events.Event
	for {
		select {
		case e := <-ch:
			out = append(out, e)
		default:
			return out
		}
	}
}

func kinds(evs []events.Event, k events.Kind) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestManagerAutoPicksFaster(t *testing.T) {
	api := startFakeAPI(t)
	fast := testsupport.StartMicrosocks(t, "", "")
	slowBackend := testsupport.StartMicrosocks(t, "", "")
	slow := testsupport.StartDelayed(t, slowBackend, 150*time.Millisecond).Addr
	st := &mapSettings{}
	if err := st.PutSetting(SettingRoutes, []Route{{"Slow", "socks5://" + slow}, {"Fast", "socks5://" + fast.Addr}}); err != nil {
		t.Fatal(err)
	}
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(64)
	defer cancel()
	m, err := NewManager(ManagerOptions{Settings: st, Dial: DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second}, Target: api.URL, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	if m.Choice() != AutoChoice || current(t, m) != "Slow" {
		t.Fatalf("before probes: choice %q, current %q; want auto serving the first route", m.Choice(), current(t, m))
	}
	hs := m.TestNow(testCtx(t))
	if len(hs) != 2 || !hs[0].Up || !hs[1].Up {
		t.Fatalf("probes: %+v", hs)
	}
	if hs[0].Latency <= hs[1].Latency {
		t.Fatalf("the delayed route probed faster: %v vs %v", hs[0].Latency, hs[1].Latency)
	}
	if got := current(t, m); got != "Fast" {
		t.Fatalf("auto serves %q, want Fast", got)
	}
	sw := kinds(drain(ch), events.RouteSwitched)
	if len(sw) != 1 || sw[0].Route != "Fast" || sw[0].Detail != AutoChoice {
		t.Fatalf("RouteSwitched events %+v", sw)
	}
	if got := names(m.Routes()); got != "Slow,Fast*" {
		t.Fatalf("Routes() = %s", got)
	}

	// A request through the chosen route really works, over HTTP/2.
	u, _ := m.Current()
	resp, body, err := get(t, u, api.URL.String()+"/v1/models")
	if err != nil {
		t.Fatalf("request through auto's pick: %v", err)
	}
	api.assertH2(t, resp, body)

	// The fast one stops: Auto moves to the slow one, which is up.
	fast.Stop()
	m.TestNow(testCtx(t))
	if got := current(t, m); got != "Slow" {
		t.Fatalf("after Fast went down auto serves %q", got)
	}
	st2 := m.Routes()
	if st2[1].Health.Up || st2[1].Health.Err == "" || len(st2[1].History) != 2 || st2[1].History[1] != 0 {
		t.Fatalf("Fast status after stop: %+v", st2[1])
	}
}

func TestManagerEventsOnTransitions(t *testing.T) {
	api := startFakeAPI(t)
	ms := testsupport.StartMicrosocks(t, "", "")
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(64)
	defer cancel()
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{"Socks", "socks5://" + ms.Addr}})
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

func TestManagerPersistence(t *testing.T) {
	st := &mapSettings{}
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(64)
	defer cancel()
	m, err := NewManager(ManagerOptions{Settings: st, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(m.Routes()); got != "Direct*" || m.Choice() != AutoChoice {
		t.Fatalf("fresh manager: %s, choice %q", got, m.Choice())
	}
	if st.puts != 0 {
		t.Fatal("a fresh manager wrote settings")
	}
	mustErr := func(err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
	if err := m.Add(Route{"Office", "socks5://alice:pw@10.0.0.1:1080"}); err != nil {
		t.Fatal(err)
	}
	mustErr(m.Add(Route{"office", "direct"}), ErrDuplicateRoute)
	mustErr(m.Add(Route{"Auto", "direct"}), ErrInvalidRoute)
	mustErr(m.Add(Route{"Bad", "ftp://x"}), ErrInvalidRoute)
	mustErr(m.Use("nope"), ErrUnknownRoute)
	if err := m.Use("office"); err != nil {
		t.Fatal(err)
	}
	if current(t, m) != "Office" || m.Choice() != "Office" {
		t.Fatalf("after Use: current %q choice %q", current(t, m), m.Choice())
	}
	if sw := kinds(drain(ch), events.RouteSwitched); len(sw) != 1 || sw[0].Route != "Office" || sw[0].Detail != "" {
		t.Fatalf("RouteSwitched on Use: %+v", sw)
	}
	var routes []Route
	var choice string
	st.get(t, SettingRoutes, &routes)
	st.get(t, SettingChoice, &choice)
	if fmt.Sprint(routes) != "[{Direct direct} {Office socks5://alice:pw@10.0.0.1:1080}]" || choice != "Office" {
		t.Fatalf("stored %v, choice %q", routes, choice)
	}

	// A second run sees the same.
	m2, err := NewManager(ManagerOptions{Settings: st})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(m2.Routes()); got != "Direct,Office*" || m2.Choice() != "Office" {
		t.Fatalf("reloaded: %s choice %q", got, m2.Choice())
	}
	before, _ := m2.Current()
	if err := m2.Update("Office", Route{"Work", "socks5://alice:pw@10.0.0.1:1080"}); err != nil {
		t.Fatal(err)
	}
	after, _ := m2.Current()
	if after.Route.Name != "Work" || m2.Choice() != "Work" || before == after {
		t.Fatalf("after rename: current %q choice %q", after.Route.Name, m2.Choice())
	}
	mustErr(m2.Update("Work", Route{"Direct", "direct"}), ErrDuplicateRoute)
	mustErr(m2.Update("Nope", Route{"X", "direct"}), ErrUnknownRoute)
	st.get(t, SettingChoice, &choice)
	if choice != "Work" {
		t.Fatalf("stored choice after rename %q", choice)
	}
	if err := m2.Remove("work"); err != nil {
		t.Fatal(err)
	}
	mustErr(m2.Remove("Direct"), ErrLastRoute)
	mustErr(m2.Remove("Gone"), ErrUnknownRoute)
	st.get(t, SettingRoutes, &routes)
	st.get(t, SettingChoice, &choice)
	if len(routes) != 1 || choice != AutoChoice || m2.Choice() != AutoChoice || current(t, m2) != "Direct" {
		t.Fatalf("after remove: stored %v choice %q current %q", routes, choice, current(t, m2))
	}
	if err := m2.UseAuto(); err != nil {
		t.Fatal(err)
	}

	// Statuses serialise without credentials.
	m2.Add(Route{"Secret", "http://u:hunter2@proxy:3128"})
	b, _ := json.Marshal(m2.Routes())
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), "http://u:***@proxy:3128") {
		t.Fatalf("Routes JSON: %s", b)
	}
}

func TestManagerVia(t *testing.T) {
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{"Direct", "direct"}, {"Office", "socks5://10.0.0.1:1080"}})
	st.PutSetting(SettingChoice, "Direct")
	cases := []struct {
		name      string
		via       Route
		list, cur string
	}{
		{"new route", Route{"--via", "http://proxy:3128"}, "Direct,Office,--via*(via)", "--via"},
		{"same URL as a stored route", Route{"--via", "socks5://10.0.0.1:1080"}, "Direct,Office*", "Office"},
		{"name taken", Route{"Office", "http://other:3128"}, "Direct,Office,Office (--via)*(via)", "Office (--via)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewManager(ManagerOptions{Settings: st, Extra: &tc.via})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(m.Routes()); got != tc.list || current(t, m) != tc.cur {
				t.Fatalf("routes %s current %q", got, current(t, m))
			}
			var choice string
			st.get(t, SettingChoice, &choice)
			if choice != "Direct" {
				t.Fatalf("--via changed the stored choice to %q", choice)
			}
		})
	}
	m, err := NewManager(ManagerOptions{Settings: st, Extra: &Route{"via", "http://proxy:3128"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("via"); !errors.Is(err, ErrViaRoute) {
		t.Fatalf("Remove(via) = %v", err)
	}
	if err := m.Update("via", Route{"x", "direct"}); !errors.Is(err, ErrViaRoute) {
		t.Fatalf("Update(via) = %v", err)
	}
	// Adding keeps the --via route last and is stored without it.
	if err := m.Add(Route{"Home", "direct"}); err != nil {
		t.Fatal(err)
	}
	if got := names(m.Routes()); got != "Direct,Office,Home,via*(via)" {
		t.Fatalf("after Add: %s", got)
	}
	var routes []Route
	st.get(t, SettingRoutes, &routes)
	if len(routes) != 3 {
		t.Fatalf("stored %v", routes)
	}
	if _, err := NewManager(ManagerOptions{Extra: &Route{"bad", "gopher://x"}}); !errors.Is(err, ErrInvalidRoute) {
		t.Fatalf("bad --via: %v", err)
	}
}

func TestManagerBrokenStoredRoute(t *testing.T) {
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{"Broken", "socks9://x"}, {"Direct", "direct"}})
	st.PutSetting(SettingChoice, "Broken")
	m, err := NewManager(ManagerOptions{Settings: st})
	if err != nil {
		t.Fatal(err)
	}
	if m.Choice() != AutoChoice || current(t, m) != "Direct" {
		t.Fatalf("choice %q current %q", m.Choice(), current(t, m))
	}
	rs := m.Routes()
	if rs[0].Health.Up || !strings.Contains(rs[0].Health.Err, "unsupported scheme") {
		t.Fatalf("broken route status %+v", rs[0])
	}
	if err := m.Use("Broken"); !errors.Is(err, ErrInvalidRoute) {
		t.Fatalf("Use(Broken) = %v", err)
	}
	// It survives other edits and can be fixed.
	if err := m.Update("Broken", Route{"Fixed", "direct"}); err != nil {
		t.Fatal(err)
	}
}

// TestManagerSwitchKeepsStreams: a stream that started on one route runs to
// its end after the user switches routes and even removes the old one.
func TestManagerSwitchKeepsStreams(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: ping\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "event: message_stop\ndata: {}\n\n")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer close(release)
	target, _ := url.Parse(srv.URL)
	ms := testsupport.StartMicrosocks(t, "", "")
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{"Socks", "socks5://" + ms.Addr}, {"Direct", "direct"}})
	st.PutSetting(SettingChoice, "Socks")
	m, err := NewManager(ManagerOptions{Settings: st, Target: target, Dial: DialOptions{RootCAs: poolOf(srv)}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := m.Current()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodPost, srv.URL+"/v1/messages", nil)
	resp, err := (&http.Client{Transport: u.Transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("event: ping\ndata: {}\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	if err := m.Use("Direct"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("Socks"); err != nil {
		t.Fatal(err)
	}
	if current(t, m) != "Direct" {
		t.Fatal("the switch did not take effect")
	}
	release <- struct{}{}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "event: message_stop\ndata: {}\n\n" {
		t.Fatalf("stream after switch: %q, %v", rest, err)
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
	if err := m.Add(Route{"Again", "direct"}); err != nil {
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

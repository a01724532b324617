package route

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

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
		if x.Current {
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
	if err := m.Add(Route{Name: "Office", URL: "socks5://alice:pw@10.0.0.1:1080"}); err != nil {
		t.Fatal(err)
	}
	mustErr(m.Add(Route{Name: "office", URL: "direct"}), ErrDuplicateRoute)
	mustErr(m.Add(Route{Name: "Auto", URL: "direct"}), ErrInvalidRoute)
	mustErr(m.Add(Route{Name: "Bad", URL: "ftp://x"}), ErrInvalidRoute)
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
	if fmt.Sprint(routes) != "[{Direct direct   } {Office socks5://alice:pw@10.0.0.1:1080   }]" || choice != "Office" {
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
	if err := m2.Update("Office", Route{Name: "Work", URL: "socks5://alice:pw@10.0.0.1:1080"}); err != nil {
		t.Fatal(err)
	}
	after, _ := m2.Current()
	if after.Route.Name != "Work" || m2.Choice() != "Work" || before == after {
		t.Fatalf("after rename: current %q choice %q", after.Route.Name, m2.Choice())
	}
	mustErr(m2.Update("Work", Route{Name: "Direct", URL: "direct"}), ErrDuplicateRoute)
	mustErr(m2.Update("Nope", Route{Name: "X", URL: "direct"}), ErrUnknownRoute)
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
	m2.Add(Route{Name: "Secret", URL: "http://u:hunter2@proxy:3128"})
	b, _ := json.Marshal(m2.Routes())
	if strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), "http://u:***@proxy:3128") {
		t.Fatalf("Routes JSON: %s", b)
	}
}

func TestManagerVia(t *testing.T) {
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{Name: "Direct", URL: "direct"}, {Name: "Office", URL: "socks5://10.0.0.1:1080"}})
	st.PutSetting(SettingChoice, "Direct")
	cases := []struct {
		name      string
		via       Route
		list, cur string
	}{
		{"new route", Route{Name: "--via", URL: "http://proxy:3128"}, "Direct,Office,--via*(via)", "--via"},
		{"same URL as a stored route", Route{Name: "--via", URL: "socks5://10.0.0.1:1080"}, "Direct,Office*", "Office"},
		{"name taken", Route{Name: "Office", URL: "http://other:3128"}, "Direct,Office,Office (--via)*(via)", "Office (--via)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewManager(ManagerOptions{Settings: st, Via: &tc.via})
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
	m, err := NewManager(ManagerOptions{Settings: st, Via: &Route{Name: "via", URL: "http://proxy:3128"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("via"); !errors.Is(err, ErrViaRoute) {
		t.Fatalf("Remove(via) = %v", err)
	}
	if err := m.Update("via", Route{Name: "x", URL: "direct"}); !errors.Is(err, ErrViaRoute) {
		t.Fatalf("Update(via) = %v", err)
	}
	// Adding keeps the --via route last and is stored without it.
	if err := m.Add(Route{Name: "Home", URL: "direct"}); err != nil {
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
	if _, err := NewManager(ManagerOptions{Via: &Route{Name: "bad", URL: "gopher://x"}}); !errors.Is(err, ErrInvalidRoute) {
		t.Fatalf("bad --via: %v", err)
	}
}

func TestManagerBrokenStoredRoute(t *testing.T) {
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{Name: "Broken", URL: "socks9://x"}, {Name: "Direct", URL: "direct"}})
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
	if err := m.Update("Broken", Route{Name: "Fixed", URL: "direct"}); err != nil {
		t.Fatal(err)
	}
}

package route

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

type fakeRoadMetrics struct {
	mu        sync.Mutex
	breakers  []string
	failovers []string
}

func (f *fakeRoadMetrics) BreakerChanged(route, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.breakers = append(f.breakers, route+"="+state)
}

func (f *fakeRoadMetrics) Failover(from, to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failovers = append(f.failovers, from+"->"+to)
}

// roadManager has four routes no test dials: candidates and reports never
// touch the network. Probe results are applied as the health loop would.
func roadManager(t *testing.T, failover string) (*Manager, *fakeRoadMetrics, <-chan events.Event) {
	t.Helper()
	st := &mapSettings{}
	routes := []Route{
		{Name: "A", URL: "socks5://127.0.0.1:1", Region: "jp"},
		{Name: "B", URL: "socks5://127.0.0.1:2", Region: "us"},
		{Name: "C", URL: "socks5://127.0.0.1:3", Region: "jp"},
		{Name: "D", URL: "socks5://127.0.0.1:4"},
	}
	if err := st.PutSetting(SettingRoutes, routes); err != nil {
		t.Fatal(err)
	}
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(256)
	t.Cleanup(cancel)
	met := &fakeRoadMetrics{}
	m, err := NewManager(ManagerOptions{Settings: st, Bus: bus, Metrics: met, Failover: failover})
	if err != nil {
		t.Fatal(err)
	}
	m.applyProbes(map[string]time.Duration{"A": 50 * time.Millisecond, "B": 20 * time.Millisecond, "C": 30 * time.Millisecond, "D": 0})
	return m, met, ch
}

// applyProbes applies three probe rounds (Auto scores the median of the
// last three): a latency per route, 0 for down.
func (m *Manager) applyProbes(lat map[string]time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range 3 {
		m.applyRound(lat)
	}
	m.recompute()
}

func (m *Manager) applyRound(lat map[string]time.Duration) {
	for _, e := range m.entries {
		l, ok := lat[e.route.Name]
		if !ok {
			continue
		}
		h := Health{Route: e.route.Name, Up: l > 0, Latency: l, Checked: time.Now()}
		if l == 0 {
			h.Err = "down"
		}
		m.apply(e, h)
	}
}

func upNames(ups []*Upstream) string {
	var s []string
	for _, u := range ups {
		s = append(s, u.Route.Name)
	}
	return fmt.Sprint(s)
}

func (m *Manager) upstream(name string) *Upstream {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.find(name).up
}

func TestCandidatesAutoOrder(t *testing.T) {
	m, _, _ := roadManager(t, "")
	// B is fastest; the rest follow: healthy first, B's region (us) has
	// no other route, then latency; the route down last.
	if got := upNames(m.candidates("sk-one", "")); got != "[B C A D]" {
		t.Fatalf("candidates %s, want [B C A D]", got)
	}
	// No credential and no session: Auto's pick all the same.
	if got := upNames(m.candidates("", "")); got != "[B C A D]" {
		t.Fatalf("anonymous candidates %s", got)
	}
}

func TestStickyAccountStaysOnItsRoute(t *testing.T) {
	m, met, _ := roadManager(t, "")
	m.report("sk-one", "", m.upstream("B"), "", "")
	// A becomes the fastest: new accounts go there, sk-one stays on B.
	m.applyProbes(map[string]time.Duration{"A": 5 * time.Millisecond, "B": 40 * time.Millisecond, "C": 30 * time.Millisecond})
	if got := upNames(m.candidates("sk-two", ""))[:2]; got != "[A" {
		t.Fatalf("new account candidates %s, want A first", upNames(m.candidates("sk-two", "")))
	}
	if got := upNames(m.candidates("sk-one", "")); got[:2] != "[B" {
		t.Fatalf("sticky account candidates %s, want B first", got)
	}
	// A session without a credential is an account of its own.
	m.report("", "session-1", m.upstream("C"), "", "")
	if got := upNames(m.candidates("", "session-1")); got[:2] != "[C" {
		t.Fatalf("sticky session candidates %s, want C first", got)
	}
	if len(met.failovers) != 0 {
		t.Fatalf("failovers counted without a failure: %v", met.failovers)
	}
}

func TestStickyFailoverPrefersSameRegion(t *testing.T) {
	m, met, ch := roadManager(t, "")
	a := m.upstream("A")
	m.report("sk-one", "", a, "", "")
	for i := 0; i < BreakerThreshold-1; i++ {
		m.report("sk-one", "", a, "reset", "")
	}
	if got := upNames(m.candidates("sk-one", "")); got[:2] != "[A" {
		t.Fatalf("after %d failures: %s, want A still first", BreakerThreshold-1, got)
	}
	m.report("sk-one", "", a, "reset", "")
	st := status(m, "A")
	if st.Breaker != BreakerOpen || st.Health.Up || !strings.Contains(st.Health.Err, "road failures in a row") {
		t.Fatalf("breaker %q, health %+v after %d road failures: want it shown down with why", st.Breaker, st.Health, BreakerThreshold)
	}
	var down bool
	for _, e := range drainEvents(ch) {
		down = down || e.Kind == events.RouteDown && e.Route == "A"
	}
	if !down {
		t.Fatal("no RouteDown event when the breaker opened")
	}
	// C shares A's region label: the account fails over there first,
	// though B is faster; A is left out while others exist.
	if got := upNames(m.candidates("sk-one", "")); got != "[C B D]" {
		t.Fatalf("failover candidates %s, want [C B D]", got)
	}
	m.report("sk-one", "", m.upstream("C"), "", "")
	if !slices.Equal(met.failovers, []string{"A->C"}) {
		t.Fatalf("failovers %v", met.failovers)
	}
	// A comes back (a good probe half-opens, a request closes it): the
	// account stays on C, where it now is.
	m.applyProbes(map[string]time.Duration{"A": 5 * time.Millisecond})
	if st := status(m, "A"); st.Breaker != BreakerHalfOpen {
		t.Fatalf("breaker %q after a good probe", st.Breaker)
	}
	m.report("sk-new", "", a, "", "")
	if st := status(m, "A"); st.Breaker != BreakerClosed {
		t.Fatalf("breaker %q after a good request", st.Breaker)
	}
	if got := upNames(m.candidates("sk-one", "")); got[:2] != "[C" {
		t.Fatalf("after recovery: %s, want C first (egress changes only on failure)", got)
	}
	want := []string{"A=open", "A=half_open", "A=closed"}
	if !slices.Equal(met.breakers, want) {
		t.Fatalf("breaker changes %v, want %v", met.breakers, want)
	}
}

func TestBreakerHalfOpenFailsAtOnce(t *testing.T) {
	m, _, _ := roadManager(t, "")
	b := m.upstream("B")
	for range BreakerThreshold {
		m.report("", "", b, "connect", "")
	}
	m.applyProbes(map[string]time.Duration{"B": 20 * time.Millisecond})
	m.report("", "", b, "tls", "")
	if st := status(m, "B"); st.Breaker != BreakerOpen {
		t.Fatalf("a failed trial left the breaker %q", st.Breaker)
	}
	// An upstream's answer, even a 529, proves the road works.
	m.applyProbes(map[string]time.Duration{"B": 20 * time.Millisecond})
	m.report("", "", b, "status", "")
	if st := status(m, "B"); st.Breaker != BreakerClosed {
		t.Fatalf("breaker %q after a 529 came through", st.Breaker)
	}
}

func TestBreakerOnlyCandidateStillTried(t *testing.T) {
	m, _, _ := roadManager(t, "")
	if err := m.Use("A"); err != nil {
		t.Fatal(err)
	}
	a := m.upstream("A")
	for range BreakerThreshold {
		m.report("", "", a, "reset", "")
	}
	if got := upNames(m.candidates("sk", "")); got != "[A]" {
		t.Fatalf("chosen route with an open breaker: %s, want [A]", got)
	}
}

func TestCandidatesByHand(t *testing.T) {
	m, _, _ := roadManager(t, "")
	m.report("sk-one", "", m.upstream("B"), "", "")
	if err := m.Use("D"); err != nil {
		t.Fatal(err)
	}
	if got := upNames(m.candidates("sk-one", "")); got != "[D]" {
		t.Fatalf("auto-only by hand: %s, want [D]", got)
	}
	if err := m.SetFailover("sometimes"); err == nil {
		t.Fatal("a bad road.failover was accepted")
	}
	if err := m.SetFailover(FailoverAlways); err != nil {
		t.Fatal(err)
	}
	if got := upNames(m.candidates("sk-one", "")); got != "[D B C A]" {
		t.Fatalf("always by hand: %s, want [D B C A]", got)
	}
	// A choice by hand moved everyone: back in Auto, sk-one is new.
	if err := m.UseAuto(); err != nil {
		t.Fatal(err)
	}
	m.applyProbes(map[string]time.Duration{"A": 5 * time.Millisecond, "B": 40 * time.Millisecond})
	if got := upNames(m.candidates("sk-one", "")); got[:2] != "[A" {
		t.Fatalf("after a choice by hand and back to Auto: %s, want the fastest (A) first", got)
	}
}

func TestStickyOrganisationAndExpiry(t *testing.T) {
	m, _, _ := roadManager(t, "")
	now := time.Now()
	m.sticky.now = func() time.Time { return now }
	m.report("sk-one", "", m.upstream("C"), "", "org-1")
	// Another key of the same organisation, once a response named it,
	// follows the organisation's route.
	m.report("sk-two", "", m.upstream("C"), "", "org-1")
	m.applyProbes(map[string]time.Duration{"A": 5 * time.Millisecond, "B": 40 * time.Millisecond})
	if got := upNames(m.candidates("sk-two", "")); got[:2] != "[C" {
		t.Fatalf("second key of org-1: %s, want C first", got)
	}
	now = now.Add(StickyIdle + time.Minute)
	if got := upNames(m.candidates("sk-one", "")); got[:2] != "[A" {
		t.Fatalf("after 12 h idle: %s, want Auto's pick A", got)
	}
}

func TestStickyBounded(t *testing.T) {
	s := newSticky()
	for i := range stickyMax + 100 {
		s.set(fmt.Sprint("key:", i), "A")
	}
	if len(s.routes) != stickyMax {
		t.Fatalf("%d entries, want the bound %d", len(s.routes), stickyMax)
	}
	if s.get("key:0") != "" || s.get(fmt.Sprint("key:", stickyMax+99)) != "A" {
		t.Fatal("the oldest entry survived or the newest was dropped")
	}
}

func status(m *Manager, name string) Status {
	for _, s := range m.Routes() {
		if s.Name == name {
			return s
		}
	}
	return Status{}
}

func drainEvents(ch <-chan events.Event) []events.Event {
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

package route

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Settings is where the Manager keeps its routes and choice (storage.DB
// implements it).
type Settings interface {
	GetSetting(key string, into any) (found bool, err error)
	PutSetting(key string, v any) error
}

// Settings keys the Manager owns.
const (
	SettingRoutes = "routes"       // []Route
	SettingChoice = "route_choice" // a route name or "auto"
)

// ManagerOptions configure a Manager. Only Target is needed for probes to
// mean anything; every other field has a working zero value.
type ManagerOptions struct {
	// Settings persists routes and the choice; nil keeps them in memory.
	Settings Settings
	// Via is the --via route for this run: listed, chosen for this run,
	// never stored. A stored route with the same URL is chosen instead of
	// listing it twice.
	Via *Route
	// Dial applies to every route's Upstream.
	Dial DialOptions
	// Target is the API base, the host every probe reaches; nil means
	// https://api.anthropic.com.
	Target *url.URL
	// Interval between probe rounds; zero means 30 s.
	Interval time.Duration
	// Bus receives RouteHealth, RouteDown, RouteUp, RouteSwitched and
	// SettingsChanged events; nil publishes nothing.
	Bus *events.Bus
	// Logger; nil discards.
	Logger *slog.Logger
	// Failover is road.failover (FailoverAutoOnly or FailoverAlways); ""
	// means auto-only.
	Failover string
	// Metrics counts breaker changes and accounts moved by a failover;
	// nil counts nothing.
	Metrics RoadMetrics
}

// RoadMetrics hears the road events the Manager sees (proxy/retry's
// Metrics implements it for Prometheus).
type RoadMetrics interface {
	// BreakerChanged: route's breaker went to state (a Breaker* constant).
	BreakerChanged(route, state string)
	// Failover: an account's requests moved from one route to another
	// after a failure.
	Failover(from, to string)
}

// Status is one route as the UI and the admin API show it.
type Status struct {
	// Route is the route as stored, credentials included, for editing;
	// it is never serialised.
	Route Route  `json:"-"`
	Name  string `json:"name"`
	URL   string `json:"url"` // masked
	// Via marks the --via route of this run.
	Via bool `json:"via"`
	// Current marks the route that serves the next request.
	Current bool `json:"chosen"`
	// Health is the last probe; Checked is zero before the first.
	Health Health `json:"health"`
	// History holds the latency of the last probes, oldest first, for a
	// sparkline; 0 marks a probe that found the route down.
	History []time.Duration `json:"history"`
	// Breaker is closed, open (three road failures in a row: skipped
	// while another route exists, shown down) or half_open.
	Breaker string `json:"breaker"`
	// Region, HTTP and KeyShare are the route's fields (Route).
	Region   string `json:"region,omitempty"`
	HTTP     string `json:"http"`
	KeyShare string `json:"tls_key_share"`
	// Learnt is what the route learnt from failures (HTTP/1.1, classic
	// key shares); `ferry routes forget NAME` clears it.
	Learnt Learnt `json:"learnt"`
	// Warm reports a connection to the API host open ahead of need.
	Warm bool `json:"warm"`
}

type entry struct {
	route   Route
	up      *Upstream // nil when the stored route no longer parses
	broken  error
	via     bool
	state   linkState
	health  Health
	history []time.Duration
	brk     breaker
}

// Manager holds the named routes, probes them, and answers Current with
// the chosen one or, in Auto, the fastest healthy one. It is a Chooser.
// Upstreams are built once per route and reused, so connection pools
// survive switching; a switch affects only requests that start after it.
type Manager struct {
	o     ManagerOptions
	log   *slog.Logger
	cur   atomic.Pointer[Upstream] // the hot path reads only this
	kick  chan struct{}
	probe sync.Mutex // one probe round at a time

	mu          sync.Mutex
	entries     []*entry          // stored routes in order, then the --via route
	choice      string            // this run's choice: AutoChoice or a name
	savedChoice string            // what Settings holds
	pick        *entry            // the route serving now
	failover    string            // road.failover
	sticky      *sticky           // accounts' routes in Auto
	learnt      map[string]Learnt // as loaded; entries' learners hold the live state
	noWarm      bool              // road.keep_warm off
	runCtx      context.Context   // Run's, for warm connections; nil before Run
}

// NewManager loads the stored routes and choice. With none stored the list
// is one route, "Direct". Before the first probe, Auto serves the first
// route.
func NewManager(o ManagerOptions) (*Manager, error) {
	if o.Interval <= 0 {
		o.Interval = defaultInterval
	}
	if o.Target == nil {
		o.Target = &url.URL{Scheme: "https", Host: "api.anthropic.com"}
	}
	failover := FailoverAutoOnly
	if o.Failover != "" {
		f, err := ParseFailover(o.Failover)
		if err != nil {
			return nil, err
		}
		failover = f
	}
	m := &Manager{o: o, log: o.Logger, kick: make(chan struct{}, 1), choice: AutoChoice, savedChoice: AutoChoice,
		failover: failover, sticky: newSticky()}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	var stored []Route
	if o.Settings != nil {
		if _, err := o.Settings.GetSetting(SettingRoutes, &stored); err != nil {
			return nil, fmt.Errorf("load routes: %w", err)
		}
		var choice string
		found, err := o.Settings.GetSetting(SettingChoice, &choice)
		if err != nil {
			return nil, fmt.Errorf("load route choice: %w", err)
		}
		if found && choice != "" {
			m.savedChoice = choice
		}
		if _, err := o.Settings.GetSetting(SettingLearnt, &m.learnt); err != nil {
			return nil, fmt.Errorf("load what routes learnt: %w", err)
		}
	}
	if len(stored) == 0 {
		stored = []Route{{Name: "Direct", URL: DirectURL}}
	}
	for _, r := range stored {
		if m.find(r.Name) != nil {
			m.log.Warn("stored route listed twice; keeping the first", "route", r.Name)
			continue
		}
		m.entries = append(m.entries, m.newEntry(r))
	}
	m.choice = m.savedChoice
	if o.Via != nil {
		via, err := Parse(o.Via.Name, o.Via.URL)
		if err != nil {
			return nil, fmt.Errorf("--via: %w", err)
		}
		if same := m.findURL(via.URL); same != nil {
			m.choice = same.route.Name
		} else {
			if m.find(via.Name) != nil {
				via.Name += " (--via)"
			}
			e := m.newEntry(via)
			e.via = true
			m.entries = append(m.entries, e)
			m.choice = via.Name
		}
	}
	if m.choice != AutoChoice {
		if e := m.find(m.choice); e == nil || e.up == nil {
			m.log.Warn("chosen route is gone or broken; using Auto", "route", m.choice)
			m.choice = AutoChoice
		} else {
			m.choice = e.route.Name
		}
	}
	m.mu.Lock()
	m.recompute()
	m.mu.Unlock()
	if m.cur.Load() == nil {
		return nil, fmt.Errorf("%w: every stored route is broken", ErrNoRoute)
	}
	return m, nil
}

func (m *Manager) newEntry(r Route) *entry {
	e := &entry{route: r}
	if _, err := normalize(r); err != nil {
		e.broken = err
		m.log.Warn("stored route does not parse", "route", r.Name, "url", r.Masked(), "err", err)
		return e
	}
	d := m.o.Dial
	if d.Logger == nil {
		d.Logger = m.log
	}
	u, err := NewUpstream(r, d)
	if err != nil {
		e.broken = err
		return e
	}
	u.learn.set(m.learnt[r.Name])
	u.learn.changed = m.saveLearnt
	e.up = u
	return e
}

// find returns the entry named name, ignoring case; nil if none.
func (m *Manager) find(name string) *entry {
	name = strings.TrimSpace(name)
	for _, e := range m.entries {
		if strings.EqualFold(e.route.Name, name) {
			return e
		}
	}
	return nil
}

// findURL returns a working stored entry dialling the same proxy with the
// same credentials as raw.
func (m *Manager) findURL(raw string) *entry {
	want, err := parseSpec(raw)
	if err != nil {
		return nil
	}
	for _, e := range m.entries {
		if e.up != nil && !e.via && sameSpec(e.up.dialer.spec, want) {
			return e
		}
	}
	return nil
}

func sameSpec(a, b spec) bool {
	return a.kind == b.kind && strings.EqualFold(a.addr, b.addr) && a.hasAuth == b.hasAuth && a.user == b.user && a.pass == b.pass
}

// Routes lists every route, stored ones first, then the --via route.
func (m *Manager) Routes() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.entries))
	for _, e := range m.entries {
		h := e.health
		if e.broken != nil && h.Err == "" {
			h = Health{Err: e.broken.Error()}
		}
		h.Route = e.route.Name
		if e.brk.open() {
			// Requests, not only probes, say whether a route works: an
			// open breaker shows the route down everywhere (tray,
			// dashboard, CLI) with why.
			h.Up = false
			h.Err = e.brk.detail
		}
		out = append(out, Status{
			Route:    e.route,
			Name:     e.route.Name,
			URL:      e.route.Masked(),
			Via:      e.via,
			Current:  e == m.pick,
			Health:   h,
			History:  slices.Clone(e.history),
			Breaker:  e.brk.String(),
			Region:   e.route.Region,
			HTTP:     orDefault(e.route.HTTP, HTTPAuto),
			KeyShare: orDefault(e.route.KeyShare, KeyShareAuto),
			Learnt:   learntOf(e),
			Warm:     e.up != nil && e.up.Warm(),
		})
	}
	return out
}

// CloseIdleConnections closes every route's idle pooled connections, for
// shutdown; requests in flight are not touched.
func (m *Manager) CloseIdleConnections() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if e.up != nil {
			e.up.Transport.CloseIdleConnections()
		}
	}
}

// Add stores a new route. It is probed in the next round, which Run starts
// at once.
func (m *Manager) Add(r Route) error {
	r, err := normalize(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.find(r.Name) != nil {
		return fmt.Errorf("add %q: %w", r.Name, ErrDuplicateRoute)
	}
	e := m.newEntry(r)
	if err := m.saveRoutes(append(m.storedRoutes(), r)); err != nil {
		return err
	}
	// Keep the --via route last.
	i := len(m.entries)
	if i > 0 && m.entries[i-1].via {
		i--
	}
	m.entries = slices.Insert(m.entries, i, e)
	m.recompute()
	m.kickProbe()
	return nil
}

// Update replaces the stored route oldName with r (a rename, a new URL, or
// both). Requests in flight on the old route finish on its connections;
// its idle connections are closed.
func (m *Manager) Update(oldName string, r Route) error {
	r, err := normalize(r)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.find(oldName)
	if old == nil {
		return fmt.Errorf("update %q: %w", oldName, ErrUnknownRoute)
	}
	if old.via {
		return fmt.Errorf("update %q: %w", oldName, ErrViaRoute)
	}
	if other := m.find(r.Name); other != nil && other != old {
		return fmt.Errorf("update %q to %q: %w", oldName, r.Name, ErrDuplicateRoute)
	}
	routes := m.storedRoutes()
	i := slices.Index(m.entries, old)
	routes[i] = r
	if err := m.saveRoutes(routes); err != nil {
		return err
	}
	wasChosen := strings.EqualFold(m.choice, old.route.Name)
	if wasChosen && strings.EqualFold(m.savedChoice, old.route.Name) {
		if err := m.saveChoice(r.Name); err != nil {
			return err
		}
	}
	// A new Upstream even for a rename: Upstream.Route names the route in
	// every usage record, and it is read without a lock.
	e := m.newEntry(r)
	if old.up != nil && sameURL(old.route.URL, r.URL) {
		e.state, e.health, e.history, e.brk = old.state, old.health, old.history, old.brk
		e.health.Route = r.Name
		if e.up != nil {
			e.up.learn.set(old.up.Learnt())
		}
	} else {
		m.kickProbe()
	}
	m.entries[i] = e
	m.sticky.rename(old.route.Name, r.Name)
	if wasChosen {
		m.choice = r.Name
	}
	if m.pick == old {
		// Same route under a new name or URL: not a switch for Auto's
		// hysteresis, but the next request must use the new Upstream.
		m.pick = e
	}
	m.recompute()
	if old.up != nil {
		old.up.stopWarm()
		old.up.Transport.CloseIdleConnections()
	}
	return nil
}

func sameURL(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }

// Remove deletes a stored route. If it was chosen, the choice becomes Auto.
func (m *Manager) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.find(name)
	if e == nil {
		return fmt.Errorf("remove %q: %w", name, ErrUnknownRoute)
	}
	if e.via {
		return fmt.Errorf("remove %q: %w", name, ErrViaRoute)
	}
	i := slices.Index(m.entries, e)
	routes := m.storedRoutes()
	if len(routes) == 1 {
		return fmt.Errorf("remove %q: %w", name, ErrLastRoute)
	}
	if err := m.saveRoutes(slices.Delete(routes, i, i+1)); err != nil {
		return err
	}
	if strings.EqualFold(m.savedChoice, e.route.Name) {
		if err := m.saveChoice(AutoChoice); err != nil {
			return err
		}
	}
	if strings.EqualFold(m.choice, e.route.Name) {
		m.choice = AutoChoice
	}
	m.entries = slices.Delete(m.entries, i, i+1)
	m.recompute()
	if e.up != nil {
		// Requests in flight keep their connections; idle ones go now.
		e.up.stopWarm()
		e.up.Transport.CloseIdleConnections()
	}
	return nil
}

// storedRoutes is the list Settings holds: everything but the --via route.
func (m *Manager) storedRoutes() []Route {
	var out []Route
	for _, e := range m.entries {
		if !e.via {
			out = append(out, e.route)
		}
	}
	return out
}

func (m *Manager) saveRoutes(routes []Route) error {
	if m.o.Settings != nil {
		if err := m.o.Settings.PutSetting(SettingRoutes, routes); err != nil {
			return fmt.Errorf("save routes: %w", err)
		}
	}
	m.publish(events.Event{Kind: events.SettingsChanged, Detail: SettingRoutes})
	return nil
}

func (m *Manager) saveChoice(choice string) error {
	if m.o.Settings != nil {
		if err := m.o.Settings.PutSetting(SettingChoice, choice); err != nil {
			return fmt.Errorf("save route choice: %w", err)
		}
	}
	m.savedChoice = choice
	m.publish(events.Event{Kind: events.SettingsChanged, Detail: SettingChoice})
	return nil
}

func (m *Manager) publish(e events.Event) {
	if m.o.Bus != nil {
		m.o.Bus.Publish(e)
	}
}

package route

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Current returns the Upstream for the next request without touching the
// network or taking a lock.
func (m *Manager) Current() (*Upstream, error) {
	u := m.cur.Load()
	if u == nil {
		return nil, ErrNoRoute
	}
	return u, nil
}

// Choice returns "auto" or the name of the chosen route.
func (m *Manager) Choice() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.choice
}

// Use chooses the named route for the next requests and remembers the
// choice (unless it is the --via route, which lasts for this run).
func (m *Manager) Use(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.find(name)
	if e == nil {
		return fmt.Errorf("use %q: %w", name, ErrUnknownRoute)
	}
	if e.up == nil {
		return fmt.Errorf("use %q: %w", name, e.broken)
	}
	if !e.via {
		if err := m.saveChoice(e.route.Name); err != nil {
			return err
		}
	}
	m.choice = e.route.Name
	m.sticky.clear() // a choice by hand moves everyone
	m.recompute()
	return nil
}

// UseAuto switches to "Auto (fastest)" and remembers it.
func (m *Manager) UseAuto() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.saveChoice(AutoChoice); err != nil {
		return err
	}
	m.choice = AutoChoice
	m.sticky.clear()
	m.recompute()
	return nil
}

// recompute picks the route for the next request and publishes
// RouteSwitched when it changes. m.mu is held.
func (m *Manager) recompute() {
	var next *entry
	if m.choice != AutoChoice {
		if e := m.find(m.choice); e != nil && e.up != nil {
			next = e
		} else {
			m.choice = AutoChoice
		}
	}
	if next == nil {
		next = m.fastest()
	}
	if next == nil {
		return
	}
	prev := m.pick
	m.pick = next
	m.cur.Store(next.up)
	m.updateWarm()
	if prev != nil && prev != next && !strings.EqualFold(prev.route.Name, next.route.Name) {
		detail := ""
		if m.choice == AutoChoice {
			detail = AutoChoice
		}
		m.log.Info("route switched", "from", prev.route.Name, "to", next.route.Name, "auto", detail != "")
		m.publish(events.Event{Kind: events.RouteSwitched, Route: next.route.Name, Detail: detail})
	}
}

// fastest is Auto's pick: the healthy route with the lowest recent
// latency. It keeps the current pick unless another is clearly faster
// (20 % and 5 ms), because every Auto switch notifies the user and two
// similar routes would otherwise trade places on jitter. With nothing
// healthy it keeps the current pick, or takes the first usable route.
func (m *Manager) fastest() *entry {
	var best *entry
	var bestLat time.Duration
	for _, e := range m.entries {
		if e.up == nil || e.state != stateUp || e.brk.open() {
			continue
		}
		if lat := e.score(); best == nil || lat < bestLat {
			best, bestLat = e, lat
		}
	}
	cur := m.pick
	curOK := cur != nil && slices.Contains(m.entries, cur) && cur.up != nil
	if best == nil {
		if curOK {
			return cur
		}
		for _, e := range m.entries {
			if e.up != nil {
				return e
			}
		}
		return nil
	}
	if curOK && cur.state == stateUp && !cur.brk.open() && cur != best {
		c := cur.score()
		if !(bestLat*5/4 < c && bestLat+5*time.Millisecond < c) {
			return cur
		}
	}
	return best
}

// score is the median of the last (up to) three latencies while up, so one
// slow probe does not move Auto.
func (e *entry) score() time.Duration {
	var last []time.Duration
	for i := len(e.history) - 1; i >= 0 && len(last) < 3; i-- {
		if e.history[i] == 0 {
			break
		}
		last = append(last, e.history[i])
	}
	if len(last) == 0 {
		return e.health.Latency
	}
	slices.Sort(last)
	return last[len(last)/2]
}

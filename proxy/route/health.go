package route

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// The health loop: Run probes every route on a timer (and at once after a
// change), apply turns each probe into state, history and events, and
// recompute (selection.go) then re-picks the route.
const (
	defaultInterval = 30 * time.Second
	historyLen      = 30 // probes kept per route for the sparkline
)

// linkState is what the probes last said of a route; stateUnknown until
// the first probe.
type linkState int

const (
	stateUnknown linkState = iota
	stateUp
	stateDown
)

func (m *Manager) kickProbe() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Run probes every route now and then every Interval (and at once after a
// route is added or changed) until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.o.Interval)
	defer t.Stop()
	defer m.stopAllWarm()
	for first := true; ; first = false {
		m.probeAll(ctx)
		if first {
			// Warm connections start once the first probes said which
			// routes serve first (recompute keeps them current after).
			m.mu.Lock()
			m.runCtx = ctx
			m.updateWarm()
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick:
		}
	}
}

// TestNow probes every route at once and returns the results in Routes
// order; state and events are updated as in a scheduled round.
func (m *Manager) TestNow(ctx context.Context) []Health {
	return m.probeAll(ctx)
}

func (m *Manager) probeAll(ctx context.Context) []Health {
	m.probe.Lock()
	defer m.probe.Unlock()
	m.mu.Lock()
	snap := slices.Clone(m.entries)
	m.mu.Unlock()

	results := make([]Health, len(snap))
	var wg sync.WaitGroup
	for i, e := range snap {
		if e.up == nil {
			results[i] = Health{Route: e.route.Name, Err: e.broken.Error(), Checked: time.Now()}
			continue
		}
		wg.Go(func() { results[i] = e.up.Probe(ctx, m.o.Target) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		// Shutting down or abandoned by the caller: an interrupted probe
		// says nothing about the route.
		return results
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	for i, e := range snap {
		if !slices.Contains(m.entries, e) {
			continue // removed or replaced while probing
		}
		m.apply(e, results[i])
	}
	m.recompute()
	return results
}

// apply records one probe and publishes its events. m.mu is held.
func (m *Manager) apply(e *entry, h Health) {
	e.health = h
	lat := time.Duration(0)
	if h.Up {
		lat = h.Latency
		if lat <= 0 {
			lat = 1 // 0 marks "down" in the history
		}
	}
	e.history = append(e.history, lat)
	if len(e.history) > historyLen {
		e.history = slices.Delete(e.history, 0, len(e.history)-historyLen)
	}
	m.publish(events.Event{Kind: events.RouteHealth, Route: h.Route, Up: h.Up, Latency: h.Latency, Detail: h.Err})
	switch {
	case h.Up && e.state == stateDown:
		m.log.Info("route up", "route", h.Route, "latency", h.Latency)
		m.publish(events.Event{Kind: events.RouteUp, Route: h.Route, Up: true, Latency: h.Latency})
	case !h.Up && e.state != stateDown:
		m.log.Warn("route down", "route", h.Route, "err", h.Err)
		m.publish(events.Event{Kind: events.RouteDown, Route: h.Route, Detail: h.Err})
	}
	if h.Up {
		e.state = stateUp
		m.probeUp(e)
	} else {
		e.state = stateDown
	}
}

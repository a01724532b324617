package route

import (
	"fmt"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// The breaker (issue 9): requests, not only probes, tell whether a route
// works. Three road failures in a row open a route: it is skipped while
// another candidate exists, shown down, and the user is notified. A
// successful probe half-opens it (one request may try it); the first
// request that gets response headers through it closes it. A route that is
// the only candidate is still tried: refusing outright helps nobody.

// BreakerThreshold is the number of road failures in a row that opens a
// route.
const BreakerThreshold = 3

// Breaker states, as Status.Breaker and the metrics name them.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"
	BreakerHalfOpen = "half_open"
)

// breaker is one route's. Its fields are guarded by Manager.mu.
type breaker struct {
	state  string // one of the Breaker* constants; "" is closed
	fails  int    // road failures in a row
	detail string // why it opened, for the route's status
}

func (b *breaker) String() string {
	if b.state == "" {
		return BreakerClosed
	}
	return b.state
}

func (b *breaker) open() bool { return b.state == BreakerOpen }

// roadFailure counts one road failure of a request on e and opens its
// breaker at the threshold (at once when half-open: the trial failed).
// m.mu is held.
func (m *Manager) roadFailure(e *entry, class string) {
	e.brk.fails++
	if e.brk.open() {
		return
	}
	if e.brk.fails < BreakerThreshold && e.brk.state != BreakerHalfOpen {
		return
	}
	e.brk.state = BreakerOpen
	detail := fmt.Sprintf("%d road failures in a row (last: %s); skipped while another route works", e.brk.fails, class)
	e.brk.detail = detail
	m.log.Warn("route breaker open", "route", e.route.Name, "fails", e.brk.fails, "last", class)
	m.publish(events.Event{Kind: events.RouteDown, Route: e.route.Name, Detail: detail})
	m.countBreaker(e.route.Name, BreakerOpen)
	m.recompute()
}

// roadSuccess notes that a request got response headers through e: the
// road works, whatever the status. m.mu is held.
func (m *Manager) roadSuccess(e *entry) {
	e.brk.fails = 0
	if e.brk.state == BreakerClosed || e.brk.state == "" {
		return
	}
	was := e.brk.state
	e.brk.state = BreakerClosed
	m.log.Info("route breaker closed", "route", e.route.Name, "was", was)
	if was == BreakerOpen || e.state != stateDown {
		m.publish(events.Event{Kind: events.RouteUp, Route: e.route.Name, Up: true, Latency: e.health.Latency})
	}
	m.countBreaker(e.route.Name, BreakerClosed)
	m.recompute()
}

// probeUp half-opens an open breaker after a successful probe. m.mu is
// held.
func (m *Manager) probeUp(e *entry) {
	if e.brk.open() {
		e.brk.state = BreakerHalfOpen
		m.log.Info("route breaker half-open after a good probe", "route", e.route.Name)
		m.countBreaker(e.route.Name, BreakerHalfOpen)
	}
}

func (m *Manager) countBreaker(route, state string) {
	if m.o.Metrics != nil {
		m.o.Metrics.BreakerChanged(route, state)
	}
}

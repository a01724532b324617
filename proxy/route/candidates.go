package route

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Candidates and outcome reports: the attempt loop asks for the ordered
// routes of one request, tries the first, and moves down the list on a
// road failure (only road failures fail over; an upstream's answer never
// does). Each attempt's outcome comes back through report, which feeds
// the breaker and the sticky table.

// road.failover values.
const (
	// FailoverAutoOnly fails over in Auto mode only: a route chosen by
	// hand is the only candidate.
	FailoverAutoOnly = "auto-only"
	// FailoverAlways fails over from a route chosen by hand too.
	FailoverAlways = "always"
)

// ParseFailover validates a road.failover value.
func ParseFailover(v string) (string, error) {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case FailoverAutoOnly, FailoverAlways:
		return s, nil
	}
	return "", fmt.Errorf("road.failover %q: want %s or %s", v, FailoverAutoOnly, FailoverAlways)
}

// SetFailover changes road.failover for requests that start after it.
func (m *Manager) SetFailover(v string) error {
	v, err := ParseFailover(v)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.failover = v
	m.mu.Unlock()
	return nil
}

// Candidates gives the routes to try for a request, best first (see
// candidates); it never touches the network.
func (m *Manager) Candidates(req Request) ([]*Upstream, error) {
	c := m.candidates(req.Credential, req.Session)
	if len(c) == 0 {
		return nil, ErrNoRoute
	}
	return c, nil
}

// Report hears how an attempt on up went (see report).
func (m *Manager) Report(req Request, up *Upstream, o Outcome) {
	m.report(req.Credential, req.Session, up, o.Class, o.Org)
}

// candidates orders the usable routes for a request of this credential
// and session. The first is the chosen route (by hand), or in Auto the
// account's sticky route while it is healthy, else Auto's pick. The rest
// follow when failover is allowed: healthy before unknown before down,
// those sharing the first's exit-region label first, then by latency.
// Routes with an open breaker are left out while another remains.
func (m *Manager) candidates(cred, session string) []*Upstream {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.candidatesLocked(cred, session)
}

func (m *Manager) candidatesLocked(cred, session string) []*Upstream {
	var first *entry
	manual := m.choice != AutoChoice
	if manual {
		first = m.pick
	} else {
		acct := m.sticky.account(cred, session)
		if e := m.find(m.sticky.get(acct)); e != nil && e.up != nil && usable(e) {
			first = e
		} else if e != nil && e.up != nil {
			// The account's route is unhealthy: its failover starts with
			// a route of the same exit region.
			first = m.bestLike(e.route.Region, e)
		}
		if first == nil {
			first = m.pick
		}
	}
	if first == nil || first.up == nil {
		return nil
	}
	out := []*Upstream{first.up}
	if manual && m.failover != FailoverAlways {
		return out
	}
	rest := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		if e != first && e.up != nil {
			rest = append(rest, e)
		}
	}
	slices.SortStableFunc(rest, func(a, b *entry) int {
		return cmp.Or(
			cmp.Compare(tier(a), tier(b)),
			cmp.Compare(regionMiss(a, first), regionMiss(b, first)),
			cmp.Compare(a.score(), b.score()),
		)
	})
	for _, e := range rest {
		if e.brk.open() {
			continue
		}
		out = append(out, e.up)
	}
	if first.brk.open() && len(out) > 1 {
		// Skipped while another candidate exists.
		out = out[1:]
	}
	return out
}

// usable: neither the breaker nor the last probe says the route is down.
func usable(e *entry) bool { return !e.brk.open() && e.state != stateDown }

// tier ranks a route's health for failover order.
func tier(e *entry) int {
	switch {
	case e.brk.open():
		return 3
	case e.state == stateDown:
		return 2
	case e.state == stateUnknown:
		return 1
	}
	return 0
}

func regionMiss(e, first *entry) int {
	if first.route.Region != "" && strings.EqualFold(e.route.Region, first.route.Region) {
		return 0
	}
	return 1
}

// bestLike is the best usable route other than not, preferring the exit
// region label region; nil when none is usable. m.mu is held.
func (m *Manager) bestLike(region string, not *entry) *entry {
	var best *entry
	for _, e := range m.entries {
		if e == not || e.up == nil || !usable(e) {
			continue
		}
		if best == nil {
			best = e
			continue
		}
		em, bm := 1, 1
		if region != "" && strings.EqualFold(e.route.Region, region) {
			em = 0
		}
		if region != "" && strings.EqualFold(best.route.Region, region) {
			bm = 0
		}
		if em < bm || em == bm && tier(e) < tier(best) || em == bm && tier(e) == tier(best) && e.score() < best.score() {
			best = e
		}
	}
	return best
}

// report hears how one attempt on up went. class is "" when response
// headers came (whatever the status: the road works) and "status" for a
// retryable status, else the road failure's class. org is the response's
// anthropic-organization-id, "" when none came.
func (m *Manager) report(cred, session string, up *Upstream, class, org string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var e *entry
	for _, x := range m.entries {
		if x.up == up {
			e = x
			break
		}
	}
	if e == nil {
		return // removed or replaced meanwhile
	}
	if class != "" && class != outcomeStatus {
		m.roadFailure(e, class)
		return
	}
	if org != "" {
		m.sticky.learnOrg(cred, org)
	}
	m.roadSuccess(e)
	if m.choice != AutoChoice {
		return
	}
	acct := m.sticky.account(cred, session)
	if moved, from := m.sticky.set(acct, e.route.Name); moved {
		// Egress changed for this account: only ever after a failure.
		m.log.Info("account moved to another route after a failure", "from", from, "to", e.route.Name)
		if m.o.Metrics != nil {
			m.o.Metrics.Failover(from, e.route.Name)
		}
	}
}

// outcomeStatus is the attempt class of a retryable upstream status
// (proxy.ClassStatus): the upstream answered, so the road works.
const outcomeStatus = "status"

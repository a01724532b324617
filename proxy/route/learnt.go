package route

import (
	"fmt"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// What a route learns about its road (issue 9), kept across runs so a
// user does not pay the same failures after every start:
//
//   - HTTP/1.1: some proxies break long HTTP/2 streams inside a CONNECT
//     tunnel ("stream ID 1; PROTOCOL_ERROR"). In http=auto, a route whose
//     HTTP/2 streams fail with protocol errors twice falls back to
//     HTTP/1.1 for good (`ferry routes forget NAME` clears it).
//   - Classic key shares: on some paths a ClientHello offering the
//     post-quantum X25519MLKEM768 share is reset while classic ones pass.
//     In tls_key_share=auto, after two such resets in a row, each followed
//     by a classic success, the route offers classic shares only, and
//     tries post-quantum again after ClassicFor.

const (
	// h2ErrorsToFallBack is the count of HTTP/2 protocol errors that moves
	// a route in http=auto to HTTP/1.1.
	h2ErrorsToFallBack = 2
	// pqResetsToLearn is the count of PQ handshake resets in a row (each
	// cured by classic shares) that makes a route remember classic.
	pqResetsToLearn = 2
	// ClassicFor is how long a learnt classic key share lasts before
	// post-quantum is tried again.
	ClassicFor = 24 * time.Hour
	// SettingLearnt is the Settings key of every route's Learnt, a map by
	// route name.
	SettingLearnt = "route_learnt"
)

// Learnt is what a route learnt, as stored and as route details show it.
type Learnt struct {
	// HTTP1 is set once HTTP/2 streams failed with protocol errors twice.
	HTTP1 bool `json:"http1,omitempty"`
	// ClassicSince is when the route learnt to offer classic key shares
	// only; zero when it offers Go's post-quantum default.
	ClassicSince time.Time `json:"classic_since,omitzero"`
}

func (l Learnt) zero() bool { return !l.HTTP1 && l.ClassicSince.IsZero() }

// learner is one Upstream's learning, safe for concurrent use: dials and
// relays of many requests report to it.
type learner struct {
	mu       sync.Mutex
	l        Learnt
	h2Errors int
	pqResets int // PQ resets in a row, each cured by classic
	now      func() time.Time
	// changed persists Learnt; nil keeps it in memory. It is called
	// without mu held.
	changed func()
}

func newLearner() *learner { return &learner{now: time.Now} }

func (x *learner) get() Learnt {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.l
}

func (x *learner) set(l Learnt) {
	x.mu.Lock()
	x.l = l
	x.h2Errors, x.pqResets = 0, 0
	x.mu.Unlock()
}

// http1 reports whether HTTP/1.1 was learnt.
func (x *learner) http1() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.l.HTTP1
}

// classic reports whether classic shares were learnt and are still in
// force.
func (x *learner) classic() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return !x.l.ClassicSince.IsZero() && x.now().Sub(x.l.ClassicSince) < ClassicFor
}

// h2ProtocolError counts one and reports whether HTTP/1.1 was learnt by it.
func (x *learner) h2ProtocolError() bool {
	x.mu.Lock()
	x.h2Errors++
	learnt := !x.l.HTTP1 && x.h2Errors >= h2ErrorsToFallBack
	if learnt {
		x.l.HTTP1 = true
	}
	x.mu.Unlock()
	if learnt && x.changed != nil {
		x.changed()
	}
	return learnt
}

// pqReset notes a post-quantum handshake reset cured by classic shares,
// and reports whether classic was learnt by it.
func (x *learner) pqReset() bool {
	x.mu.Lock()
	x.pqResets++
	learnt := x.pqResets >= pqResetsToLearn && x.l.ClassicSince.IsZero() ||
		x.pqResets >= pqResetsToLearn && x.now().Sub(x.l.ClassicSince) >= ClassicFor
	if learnt {
		x.l.ClassicSince = x.now()
		x.pqResets = 0
	}
	x.mu.Unlock()
	if learnt && x.changed != nil {
		x.changed()
	}
	return learnt
}

// pqOK notes a post-quantum handshake that passed: resets are no longer
// in a row, and a classic learnt long ago is forgotten.
func (x *learner) pqOK() {
	x.mu.Lock()
	x.pqResets = 0
	forgot := !x.l.ClassicSince.IsZero()
	x.l.ClassicSince = time.Time{}
	x.mu.Unlock()
	if forgot && x.changed != nil {
		x.changed()
	}
}

func learntOf(e *entry) Learnt {
	if e.up == nil {
		return Learnt{}
	}
	return e.up.Learnt()
}

// saveLearnt persists every stored route's Learnt. It is called from a
// dial or a relay (never with m.mu held) when a route learnt something.
func (m *Manager) saveLearnt() {
	m.mu.Lock()
	all := map[string]Learnt{}
	for _, e := range m.entries {
		if e.up != nil && !e.via {
			if l := e.up.Learnt(); !l.zero() {
				all[e.route.Name] = l
			}
		}
	}
	m.mu.Unlock()
	if m.o.Settings != nil {
		if err := m.o.Settings.PutSetting(SettingLearnt, all); err != nil {
			m.log.Warn("could not save what routes learnt", "err", err)
			return
		}
	}
	m.publish(events.Event{Kind: events.SettingsChanged, Detail: SettingLearnt})
}

// Forget clears what the route name learnt (`ferry routes forget NAME`):
// it offers HTTP/2 and post-quantum key shares again, per its fields.
func (m *Manager) Forget(name string) error {
	m.mu.Lock()
	e := m.find(name)
	m.mu.Unlock()
	if e == nil {
		return fmt.Errorf("forget %q: %w", name, ErrUnknownRoute)
	}
	if e.up == nil {
		return fmt.Errorf("forget %q: %w", name, e.broken)
	}
	e.up.learn.set(Learnt{})
	m.saveLearnt()
	e.up.Transport.CloseIdleConnections()
	e.up.warm.redial()
	return nil
}

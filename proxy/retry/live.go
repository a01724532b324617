package retry

import (
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
)

// Live is a proxy.RetryPolicy whose Policy can be replaced while requests
// run (the retry.* settings apply at once): each decision reads the
// Policy current when it is made.
type Live struct{ p atomic.Pointer[Policy] }

// NewLive starts with p.
func NewLive(p *Policy) *Live {
	l := &Live{}
	l.p.Store(p)
	return l
}

// Store replaces the policy for decisions made from now on.
func (l *Live) Store(p *Policy) { l.p.Store(p) }

// Load is the current policy.
func (l *Live) Load() *Policy { return l.p.Load() }

// Decide implements proxy.RetryPolicy.
func (l *Live) Decide(out *proxy.Outgoing, n int, last proxy.AttemptResult, since time.Duration) proxy.RetryDecision {
	return l.p.Load().Decide(out, n, last, since)
}

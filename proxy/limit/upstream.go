package limit

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/usage"
)

// upstreamLimits are the anthropic-ratelimit-* limits a request may wait
// for; the subscription's unified-* windows are the quota's, not these.
var upstreamLimits = []string{"requests", "tokens", "input-tokens", "output-tokens"}

// observe keeps the headroom Anthropic reported for one credential.
func (l *Limiter) observe(key string, h http.Header) {
	if len(h) == 0 {
		return
	}
	l.headMu.Lock()
	t := l.headroom[key]
	if t == nil {
		if len(l.headroom) >= maxKeys {
			clear(l.headroom)
		}
		t = &usage.HeadroomTracker{}
		l.headroom[key] = t
	}
	l.headMu.Unlock()
	t.Observe(h, l.o.Now())
}

// waitFor returns how long until the credential's nearly spent upstream
// limits reset: 0 when none is at or under 5 % of its limit.
func (l *Limiter) waitFor(key string, now time.Time) time.Duration {
	l.headMu.Lock()
	t := l.headroom[key]
	l.headMu.Unlock()
	if t == nil {
		return 0
	}
	snap := t.Snapshot()
	var wait time.Duration
	for _, name := range upstreamLimits {
		h, ok := snap[name]
		if !ok || h.Limit <= 0 || h.Reset.IsZero() {
			continue
		}
		if float64(h.Remaining) > followThreshold*float64(h.Limit) {
			continue
		}
		wait = max(wait, h.Reset.Sub(now))
	}
	return wait
}

// followUpstream waits for the reset of a nearly spent upstream limit of
// this credential, when that is within the configured bound: sending now
// would only meet Anthropic's 429. A longer wait is not made; the request
// goes and gets Anthropic's answer.
func (l *Limiter) followUpstream(ctx context.Context, key string, c *Config) error {
	wait := l.waitFor(key, l.o.Now())
	if wait <= 0 || wait > c.maxWait() {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releasingBody gives the queue slot back when the response body is
// closed, after the relay.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

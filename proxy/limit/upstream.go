package limit

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// upstreamHeaders are the anthropic-ratelimit-* limits a request may wait
// for (canonical header names: limit, remaining, reset); the
// subscription's unified-* windows are the quota's, not these.
var upstreamHeaders = func() [][3]string {
	var out [][3]string
	for _, n := range []string{"Requests", "Tokens", "Input-Tokens", "Output-Tokens"} {
		p := "Anthropic-Ratelimit-" + n + "-"
		out = append(out, [3]string{p + "Limit", p + "Remaining", p + "Reset"})
	}
	return out
}()

// lowUntil returns when the nearly spent upstream limits of a response
// reset: zero when none is at or under 5 % of its limit. It reads the
// canonical header names only (net/http hands them over so), with no
// allocation: it runs for every Messages response.
func lowUntil(h http.Header) time.Time {
	var until time.Time
	for _, n := range upstreamHeaders {
		lv, rv := h[n[0]], h[n[1]]
		if len(lv) == 0 || len(rv) == 0 {
			continue
		}
		limit, err1 := strconv.ParseInt(lv[0], 10, 64)
		rem, err2 := strconv.ParseInt(rv[0], 10, 64)
		if err1 != nil || err2 != nil || limit <= 0 || float64(rem) > followThreshold*float64(limit) {
			continue
		}
		if tv := h[n[2]]; len(tv) > 0 {
			if t, err := time.Parse(time.RFC3339, tv[0]); err == nil && t.After(until) {
				until = t
			}
		}
	}
	return until
}

// observe keeps when a credential's nearly spent upstream limits reset.
func (l *Limiter) observe(key string, h http.Header) {
	until := lowUntil(h)
	l.headMu.Lock()
	defer l.headMu.Unlock()
	if until.IsZero() {
		delete(l.headroom, key)
		return
	}
	if len(l.headroom) >= maxKeys {
		clear(l.headroom)
	}
	l.headroom[key] = until
}

// waitFor returns how long until the credential's nearly spent upstream
// limits reset: 0 when none is at or under 5 % of its limit.
func (l *Limiter) waitFor(key string, now time.Time) time.Duration {
	l.headMu.Lock()
	until, ok := l.headroom[key]
	l.headMu.Unlock()
	if !ok {
		return 0
	}
	return until.Sub(now)
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

package usage

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is the latest headroom the upstream reported for one limit
// (requests, tokens, input-tokens, output-tokens).
type RateLimit struct {
	Limit     int64     `json:"limit"`
	Remaining int64     `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
	Seen      time.Time `json:"seen"` // when the response carrying it arrived
}

// RateLimitTracker keeps the latest anthropic-ratelimit-* headers seen on
// any response, in memory. It is safe for concurrent use; the zero value
// is ready.
type RateLimitTracker struct {
	mu     sync.Mutex
	limits map[string]RateLimit
}

const rateLimitPrefix = "Anthropic-Ratelimit-"

// Observe records the rate-limit headers of one response, if it has any.
// Each limit is replaced whole, so a limit and its remaining count always
// come from the same response.
func (t *RateLimitTracker) Observe(h http.Header, at time.Time) {
	if t == nil || len(h) == 0 {
		return
	}
	var found map[string]RateLimit
	for k, vs := range h {
		rest, ok := strings.CutPrefix(http.CanonicalHeaderKey(k), rateLimitPrefix)
		if !ok || len(vs) == 0 {
			continue
		}
		i := strings.LastIndexByte(rest, '-')
		if i <= 0 {
			continue
		}
		name, field := strings.ToLower(rest[:i]), rest[i+1:]
		if found == nil {
			found = make(map[string]RateLimit, 4)
		}
		rl := found[name]
		v := strings.TrimSpace(vs[0])
		switch field {
		case "Limit":
			rl.Limit, _ = strconv.ParseInt(v, 10, 64)
		case "Remaining":
			rl.Remaining, _ = strconv.ParseInt(v, 10, 64)
		case "Reset":
			rl.Reset, _ = time.Parse(time.RFC3339, v)
		default:
			continue
		}
		rl.Seen = at
		found[name] = rl
	}
	if len(found) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.limits == nil {
		t.limits = make(map[string]RateLimit, len(found))
	}
	for k, v := range found {
		if old, ok := t.limits[k]; ok && old.Seen.After(v.Seen) {
			continue // a slower response from earlier must not hide a newer reading
		}
		t.limits[k] = v
	}
}

// Snapshot returns the latest reading of every limit seen, keyed by its
// name ("requests", "tokens", "input-tokens", "output-tokens").
func (t *RateLimitTracker) Snapshot() map[string]RateLimit {
	out := map[string]RateLimit{}
	if t == nil {
		return out
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.limits {
		out[k] = v
	}
	return out
}

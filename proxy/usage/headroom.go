package usage

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Headroom is what the upstream last said is left of one of its rate
// limits (requests, tokens, input-tokens, output-tokens), from its
// anthropic-ratelimit-* headers. It is the upstream's limit, not one Ferry
// enforces: a local rate limit is another concept with another name.
type Headroom struct {
	Limit     int64     `json:"limit"`
	Remaining int64     `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
	Seen      time.Time `json:"seen"` // when the response carrying it arrived
}

// HeadroomTracker keeps the latest anthropic-ratelimit-* headers seen on
// any response, in memory. It is safe for concurrent use; the zero value
// is ready.
type HeadroomTracker struct {
	mu     sync.Mutex
	limits map[string]Headroom
}

const rateLimitPrefix = "anthropic-ratelimit-"

// rateLimitNames are the limits the API reports today, kept as constants
// so that reading them takes no lower-cased copy of each header name.
// Limits it may add are read all the same.
var rateLimitNames = [...]string{"requests", "tokens", "input-tokens", "output-tokens"}

// Observe records the rate-limit headers of one response, if it has any.
// Each limit is replaced whole, so a limit and its remaining count always
// come from the same response. It runs for every response, most of whose
// headers are not rate limits: each of those costs a comparison and no
// allocation.
func (t *HeadroomTracker) Observe(h http.Header, at time.Time) {
	if t == nil || len(h) == 0 {
		return
	}
	type reading struct {
		name string
		rl   Headroom
	}
	var buf [2 * len(rateLimitNames)]reading // room for limits the API may add
	found := buf[:0]
	for k, vs := range h {
		// net/http hands over canonical names, but a header map built by
		// hand may spell them in any case.
		if len(k) <= len(rateLimitPrefix) || !strings.EqualFold(k[:len(rateLimitPrefix)], rateLimitPrefix) || len(vs) == 0 {
			continue
		}
		rest := k[len(rateLimitPrefix):]
		i := strings.LastIndexByte(rest, '-')
		if i <= 0 {
			continue
		}
		name, field := rest[:i], rest[i+1:]
		if len(name) >= 7 && strings.EqualFold(name[:7], "unified") {
			continue // a subscription's quota windows (package quota), not rate limits
		}
		j := slices.IndexFunc(found, func(r reading) bool { return strings.EqualFold(r.name, name) })
		var rl Headroom
		if j >= 0 {
			rl = found[j].rl
		}
		v := strings.TrimSpace(vs[0])
		switch {
		case strings.EqualFold(field, "limit"):
			rl.Limit, _ = strconv.ParseInt(v, 10, 64)
		case strings.EqualFold(field, "remaining"):
			rl.Remaining, _ = strconv.ParseInt(v, 10, 64)
		case strings.EqualFold(field, "reset"):
			rl.Reset, _ = time.Parse(time.RFC3339, v)
		default:
			continue
		}
		rl.Seen = at
		if j >= 0 {
			found[j].rl = rl
		} else {
			found = append(found, reading{limitName(name), rl})
		}
	}
	if len(found) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.limits == nil {
		t.limits = make(map[string]Headroom, len(found))
	}
	for _, r := range found {
		if old, ok := t.limits[r.name]; ok && old.Seen.After(r.rl.Seen) {
			continue // a slower response from earlier must not hide a newer reading
		}
		t.limits[r.name] = r.rl
	}
}

// limitName is the name of a limit in lower case, as Snapshot keys it.
func limitName(s string) string {
	for _, n := range rateLimitNames {
		if strings.EqualFold(s, n) {
			return n
		}
	}
	return strings.ToLower(s)
}

// Snapshot returns the latest reading of every limit seen, keyed by its
// name ("requests", "tokens", "input-tokens", "output-tokens").
func (t *HeadroomTracker) Snapshot() map[string]Headroom {
	out := map[string]Headroom{}
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

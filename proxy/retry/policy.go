package retry

import (
	"github.com/ferry-gateway/ferry/proxy/usage"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Defaults of the retry.* settings.
const (
	DefaultMaxAttempts   = 3
	DefaultMaxElapsed    = 60 * time.Second
	DefaultMaxRetryAfter = 20 * time.Second
)

// Backoff bounds. A road failure moves to another route or re-dials, so
// its first wait is short; an overloaded upstream gets the SDKs' pace
// (0.5 s doubling), since the same route is asked again.
const (
	roadBackoff   = 100 * time.Millisecond
	statusBackoff = 500 * time.Millisecond
	maxBackoff    = 4 * time.Second
)

// Policy is the retry policy. Its zero value uses the defaults; a Policy
// is read-only once in use and safe for concurrent use.
type Policy struct {
	// MaxAttempts counts every upstream attempt of one client request,
	// failovers included. Zero means 3; 1 means no retries.
	MaxAttempts int
	// MaxElapsed ends retrying this long after the request arrived. Zero
	// means 60 s.
	MaxElapsed time.Duration
	// MaxRetryAfter is the longest retry-after of a 429 that Ferry waits
	// out itself; a longer one passes to the client. Zero means 20 s.
	MaxRetryAfter time.Duration
	// Jitter returns a number in [0, 1); nil means math/rand/v2. Tests
	// fix it.
	Jitter func() float64
	// Metrics counts the retries decided; nil counts nothing.
	Metrics *Metrics
}

// Result is one attempt as the policy sees it.
type Result struct {
	// Status is the upstream's status when response headers came, 0 for
	// a road failure.
	Status int
	// Header is the upstream's response headers, when they came.
	Header http.Header
	// Sent reports that the request may have reached the upstream (its
	// bytes left Ferry): a road failure after that is retried once only.
	Sent bool
	// ErrorBody is the start of the upstream's error body when the caller
	// read it (nil otherwise): a 429 for a spend limit says so only there.
	ErrorBody []byte
}

// Decision is the policy's answer after a failed attempt.
type Decision struct {
	Again bool
	Wait  time.Duration
	// Failover moves the next attempt to the next candidate route; false
	// asks the same route again.
	Failover bool
	// Reason says why, for logs and tests: "road", "status", "rate_limit",
	// or why not ("attempts", "elapsed", "sent_once", "status_once",
	// "not_retryable", "quota", "retry_after", "x-should-retry").
	Reason string
}

// State is what the policy remembers across the attempts of one request.
// Its zero value is ready; one per request, never shared.
type State struct {
	sentFailures  int // road failures after the request was sent
	statusRetries int // retries of a 5xx/529/429 answer
}

// Next decides after attempt n (1 after the first) failed as last, since
// is the time since the request arrived.
func (p *Policy) Next(st *State, n int, last Result, since time.Duration) Decision {
	if n >= p.maxAttempts() {
		return Decision{Reason: "attempts"}
	}
	var d Decision
	if last.Status == 0 {
		d = p.road(st, n, last)
	} else {
		d = p.status(st, last)
	}
	if d.Again && since+d.Wait > p.maxElapsed() {
		return Decision{Reason: "elapsed"}
	}
	return d
}

func (p *Policy) road(st *State, n int, last Result) Decision {
	if last.Sent {
		// The request may have reached Anthropic and may be running:
		// once more is worth it on a bad road, twice multiplies cost.
		if st.sentFailures >= 1 {
			return Decision{Reason: "sent_once"}
		}
		st.sentFailures++
	}
	return Decision{Again: true, Failover: true, Wait: p.backoff(roadBackoff, n), Reason: "road"}
}

func (p *Policy) status(st *State, last Result) Decision {
	should, said := shouldRetryHeader(last.Header)
	if said && !should {
		return Decision{Reason: "x-should-retry"}
	}
	if st.statusRetries >= 1 {
		// Claude Code retries 5xx and 529 itself, up to 10 times; one of
		// ours per request keeps the product at 20, not 40.
		return Decision{Reason: "status_once"}
	}
	switch {
	case last.Status == http.StatusTooManyRequests:
		if usage.IsSpendOrQuotaLimit(last.Status, last.Header, last.ErrorBody) {
			return Decision{Reason: "quota"}
		}
		wait, ok := retryAfter(last.Header)
		if !ok || wait > p.maxRetryAfter() {
			return Decision{Reason: "retry_after"}
		}
		st.statusRetries++
		return Decision{Again: true, Wait: wait, Reason: "rate_limit"}
	case retryableStatus(last.Status) || (said && should && last.Status >= 400):
		st.statusRetries++
		wait := p.backoff(statusBackoff, 1)
		if ra, ok := retryAfter(last.Header); ok && ra <= p.maxRetryAfter() {
			wait = ra
		}
		return Decision{Again: true, Wait: wait, Reason: "status"}
	}
	return Decision{Reason: "not_retryable"}
}

// retryableStatus: overloaded and the server errors a retry may cure.
// 501 and 505 never change on a retry.
func retryableStatus(s int) bool {
	switch s {
	case 529, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// shouldRetryHeader reads x-should-retry, which Anthropic sets to tell
// its SDKs what to do regardless of the status.
func shouldRetryHeader(h http.Header) (should, said bool) {
	switch strings.ToLower(strings.TrimSpace(h.Get("X-Should-Retry"))) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// retryAfter reads retry-after-ms (the SDKs honour it first) or
// retry-after in seconds or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > 1e6 {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// backoff is base·2^(n-1), capped, with jitter over its upper half so
// clients that failed together don't come back together.
func (p *Policy) backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	j := p.Jitter
	if j == nil {
		j = rand.Float64
	}
	return d/2 + time.Duration(j()*float64(d/2))
}

func (p *Policy) maxAttempts() int {
	if p.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return p.MaxAttempts
}

func (p *Policy) maxElapsed() time.Duration {
	if p.MaxElapsed <= 0 {
		return DefaultMaxElapsed
	}
	return p.MaxElapsed
}

func (p *Policy) maxRetryAfter() time.Duration {
	if p.MaxRetryAfter <= 0 {
		return DefaultMaxRetryAfter
	}
	return p.MaxRetryAfter
}

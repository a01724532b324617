package retry

import (
	"net/http"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func fixed(p Policy) *Policy {
	p.Jitter = func() float64 { return 1 }
	return &p
}

func TestPolicyOneFailure(t *testing.T) {
	cases := []struct {
		name     string
		last     Result
		again    bool
		failover bool
		reason   string
	}{
		{"connect failure not sent", Result{}, true, true, "road"},
		{"reset after send", Result{Sent: true}, true, true, "road"},
		{"529", Result{Status: 529}, true, false, "status"},
		{"500", Result{Status: 500}, true, false, "status"},
		{"502", Result{Status: 502}, true, false, "status"},
		{"503", Result{Status: 503}, true, false, "status"},
		{"504", Result{Status: 504}, true, false, "status"},
		{"501 never changes", Result{Status: 501}, false, false, "not_retryable"},
		{"400", Result{Status: 400}, false, false, "not_retryable"},
		{"401", Result{Status: 401}, false, false, "not_retryable"},
		{"413", Result{Status: 413}, false, false, "not_retryable"},
		{"529 with x-should-retry false", Result{Status: 529, Header: hdr("X-Should-Retry", "false")}, false, false, "x-should-retry"},
		{"409 with x-should-retry true", Result{Status: 409, Header: hdr("X-Should-Retry", "true")}, true, false, "status"},
		{"429 retry-after 7", Result{Status: 429, Header: hdr("Retry-After", "7")}, true, false, "rate_limit"},
		{"429 retry-after 20 (the bound)", Result{Status: 429, Header: hdr("Retry-After", "20")}, true, false, "rate_limit"},
		{"429 retry-after 21", Result{Status: 429, Header: hdr("Retry-After", "21")}, false, false, "retry_after"},
		{"429 without retry-after (spend limit)", Result{Status: 429}, false, false, "retry_after"},
		{"429 retry-after garbage", Result{Status: 429, Header: hdr("Retry-After", "soon")}, false, false, "retry_after"},
		{"429 retry-after-ms", Result{Status: 429, Header: hdr("Retry-After-Ms", "1500", "Retry-After", "60")}, true, false, "rate_limit"},
		{"429 subscription 5h spent", Result{Status: 429, Header: hdr("Retry-After", "5",
			"Anthropic-Ratelimit-Unified-Representative-Claim", "five_hour",
			"Anthropic-Ratelimit-Unified-5h-Utilization", "1.0")}, false, false, "quota"},
		{"429 subscription rejected", Result{Status: 429, Header: hdr("Retry-After", "5",
			"Anthropic-Ratelimit-Unified-Status", "rejected")}, false, false, "quota"},
		{"429 subscription below quota", Result{Status: 429, Header: hdr("Retry-After", "5",
			"Anthropic-Ratelimit-Unified-5h-Utilization", "0.42", "Anthropic-Ratelimit-Unified-Status", "allowed")}, true, false, "rate_limit"},
		{"429 usage-limit message", Result{Status: 429, Header: hdr("Retry-After", "5"),
			ErrorBody: []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified workspace API usage limits."}}`)}, false, false, "quota"},
		{"429 enforced spend limit", Result{Status: 429, Header: hdr("Retry-After", "5"),
			ErrorBody: []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"Spend limit reached","details":{"error_code":"enforced_spend_limit_reached"}}}`)}, false, false, "quota"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := fixed(Policy{})
			var st State
			d := p.Next(&st, 1, c.last, time.Second)
			if d.Again != c.again || d.Failover != c.failover || d.Reason != c.reason {
				t.Fatalf("got %+v, want again=%v failover=%v reason=%s", d, c.again, c.failover, c.reason)
			}
		})
	}
}

func TestPolicyRetryAfterIsTheWait(t *testing.T) {
	p := fixed(Policy{})
	var st State
	d := p.Next(&st, 1, Result{Status: 429, Header: hdr("Retry-After", "7")}, 0)
	if d.Wait != 7*time.Second {
		t.Fatalf("wait %s, want the 429's retry-after 7s", d.Wait)
	}
	st = State{}
	at := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	d = p.Next(&st, 1, Result{Status: 429, Header: hdr("Retry-After", at)}, 0)
	if !d.Again || d.Wait > 3*time.Second {
		t.Fatalf("an HTTP-date retry-after 3 s ahead: %+v", d)
	}
}

func TestPolicySentRequestRetriedOnce(t *testing.T) {
	p := fixed(Policy{MaxAttempts: 10})
	var st State
	if d := p.Next(&st, 1, Result{Sent: true}, 0); !d.Again {
		t.Fatalf("first sent failure: %+v", d)
	}
	// A failure before sending in between is always retried …
	if d := p.Next(&st, 2, Result{}, 0); !d.Again {
		t.Fatalf("unsent failure after a sent one: %+v", d)
	}
	// … but a second sent failure is not: it may have run twice already.
	if d := p.Next(&st, 3, Result{Sent: true}, 0); d.Again || d.Reason != "sent_once" {
		t.Fatalf("second sent failure: %+v", d)
	}
}

func TestPolicyUnsentAlwaysRetriedUpToMaxAttempts(t *testing.T) {
	p := fixed(Policy{MaxAttempts: 4})
	var st State
	for n := 1; n < 4; n++ {
		if d := p.Next(&st, n, Result{}, 0); !d.Again || !d.Failover {
			t.Fatalf("attempt %d: %+v", n, d)
		}
	}
	if d := p.Next(&st, 4, Result{}, 0); d.Again || d.Reason != "attempts" {
		t.Fatalf("after max_attempts: %+v", d)
	}
}

func TestPolicyStatusRetriedOnce(t *testing.T) {
	p := fixed(Policy{MaxAttempts: 10})
	var st State
	if d := p.Next(&st, 1, Result{Status: 529}, 0); !d.Again || d.Failover {
		t.Fatalf("first 529: %+v", d)
	}
	if d := p.Next(&st, 2, Result{Status: 503}, 0); d.Again || d.Reason != "status_once" {
		t.Fatalf("second 5xx: %+v", d)
	}
	// A road failure after that is still a road failure.
	if d := p.Next(&st, 3, Result{}, 0); !d.Again {
		t.Fatalf("road failure after a status retry: %+v", d)
	}
}

func TestPolicyMaxElapsed(t *testing.T) {
	p := fixed(Policy{MaxElapsed: 10 * time.Second})
	var st State
	if d := p.Next(&st, 1, Result{}, 11*time.Second); d.Again || d.Reason != "elapsed" {
		t.Fatalf("after max_elapsed: %+v", d)
	}
	// A wait that would end past max_elapsed is not taken either.
	st = State{}
	if d := p.Next(&st, 1, Result{Status: 429, Header: hdr("Retry-After", "5")}, 6*time.Second); d.Again {
		t.Fatalf("retry-after past max_elapsed: %+v", d)
	}
}

func TestPolicyBackoff(t *testing.T) {
	p := &Policy{MaxAttempts: 20, Jitter: func() float64 { return 0 }}
	hi := &Policy{MaxAttempts: 20, Jitter: func() float64 { return 0.999999 }}
	prev := time.Duration(0)
	for n := 1; n < 10; n++ {
		lo := p.backoff(roadBackoff, n)
		up := hi.backoff(roadBackoff, n)
		if lo > up || up > maxBackoff || lo < prev {
			t.Fatalf("n=%d: backoff range [%s, %s] after %s", n, lo, up, prev)
		}
		prev = lo
	}
	if got := p.backoff(roadBackoff, 1); got != roadBackoff/2 {
		t.Fatalf("first road backoff floor %s, want %s", got, roadBackoff/2)
	}
	if got := hi.backoff(roadBackoff, 30); got > maxBackoff {
		t.Fatalf("backoff unbounded: %s", got)
	}
	// The default jitter spreads.
	var def Policy
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[def.backoff(statusBackoff, 2)] = true
	}
	if len(seen) < 2 {
		t.Fatalf("no jitter: %v", seen)
	}
}

func TestLiveSwapsThePolicy(t *testing.T) {
	l := NewLive(&Policy{MaxAttempts: 1})
	out := &proxy.Outgoing{}
	if d := l.Decide(out, 1, proxy.AttemptResult{Class: proxy.ClassConnect}, 0); d.Again {
		t.Fatalf("max_attempts 1 retried: %+v", d)
	}
	l.Store(&Policy{MaxAttempts: 3})
	if d := l.Decide(&proxy.Outgoing{}, 1, proxy.AttemptResult{Class: proxy.ClassConnect}, 0); !d.Again || !d.Failover {
		t.Fatalf("after the swap: %+v", d)
	}
}

package usage

import (
	"net/http"
	"testing"
	"time"
)

func TestRateLimitTracker(t *testing.T) {
	var tr RateLimitTracker
	reset := "2026-11-20T10:01:00Z"
	h := http.Header{}
	h.Set("anthropic-ratelimit-requests-limit", "4000")
	h.Set("anthropic-ratelimit-requests-remaining", "3999")
	h.Set("anthropic-ratelimit-requests-reset", reset)
	h.Set("anthropic-ratelimit-output-tokens-limit", "80000")
	h.Set("anthropic-ratelimit-output-tokens-remaining", "79000")
	h.Set("request-id", "req_1")
	tr.Observe(h, t0)
	older := http.Header{}
	older.Set("anthropic-ratelimit-requests-remaining", "1")
	tr.Observe(older, t0.Add(-time.Second)) // a slow, older response
	tr.Observe(http.Header{"Content-Type": {"application/json"}}, t0.Add(time.Second))
	s := tr.Snapshot()
	want, _ := time.Parse(time.RFC3339, reset)
	if r := s["requests"]; r.Limit != 4000 || r.Remaining != 3999 || !r.Reset.Equal(want) || !r.Seen.Equal(t0) {
		t.Errorf("requests = %+v", r)
	}
	if r := s["output-tokens"]; r.Limit != 80000 || r.Remaining != 79000 {
		t.Errorf("output-tokens = %+v", r)
	}
	if len(s) != 2 {
		t.Errorf("snapshot %v", s)
	}
	var nilT *RateLimitTracker
	nilT.Observe(h, t0)
	if len(nilT.Snapshot()) != 0 {
		t.Error("nil tracker")
	}
}

package usage

import (
	"net/http"
	"reflect"
	"testing"
	"time"
)

func TestHeadroomTracker(t *testing.T) {
	var tr HeadroomTracker
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
	var nilT *HeadroomTracker
	nilT.Observe(h, t0)
	if len(nilT.Snapshot()) != 0 {
		t.Error("nil tracker")
	}
}

func TestHeadroomTrackerReadsAnySpelling(t *testing.T) {
	reset := "2026-11-20T10:01:00Z"
	at, _ := time.Parse(time.RFC3339, reset)
	for _, tc := range []struct {
		name string
		h    http.Header
		want map[string]Headroom
	}{
		{"lower case, in a header map built by hand", http.Header{
			"anthropic-ratelimit-input-tokens-limit":     {"2000000"},
			"anthropic-ratelimit-input-tokens-remaining": {" 1999000 "},
			"anthropic-ratelimit-input-tokens-reset":     {reset},
		}, map[string]Headroom{"input-tokens": {Limit: 2000000, Remaining: 1999000, Reset: at, Seen: t0}}},
		{"mixed case, one limit from several spellings", http.Header{
			"ANTHROPIC-RATELIMIT-TOKENS-LIMIT":     {"80000"},
			"Anthropic-RateLimit-tokens-Remaining": {"100"},
		}, map[string]Headroom{"tokens": {Limit: 80000, Remaining: 100, Seen: t0}}},
		{"a limit the API may add", http.Header{
			"Anthropic-Ratelimit-Priority-Output-Tokens-Limit": {"5"},
		}, map[string]Headroom{"priority-output-tokens": {Limit: 5, Seen: t0}}},
		{"an unreadable value is still a reading", http.Header{
			"Anthropic-Ratelimit-Requests-Remaining": {"many"},
		}, map[string]Headroom{"requests": {Seen: t0}}},
		{"not rate limits", http.Header{
			"Anthropic-Ratelimit-Requests-Window":  {"60"}, // no such field
			"Anthropic-Ratelimit-":                 {"1"},
			"Anthropic-Ratelimit--Limit":           {"1"},
			"Anthropic-Ratelimit-Tokens-Limit":     {},
			"X-Anthropic-Ratelimit-Tokens-Limit":   {"1"},
			"Anthropic-Ratelimi":                   {"1"},
			"Retry-After":                          {"3"},
			"Anthropic-Ratelimit-Unified-5h-Reset": {"1764680400"},
			"Anthropic-Ratelimit-Unified-Status":   {"allowed"},
		}, map[string]Headroom{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr HeadroomTracker
			tr.Observe(tc.h, t0)
			if got := tr.Snapshot(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Observe runs for every response: it must cost no allocation once each
// limit has been seen, and none at all for a response without them.
func TestHeadroomObserveDoesNotAllocate(t *testing.T) {
	var tr HeadroomTracker
	h := anthropicStreamHeader()
	tr.Observe(h, t0)
	if n := testing.AllocsPerRun(100, func() { tr.Observe(h, t0) }); n != 0 {
		t.Errorf("%v allocations per response with rate limits", n)
	}
	plain := http.Header{"Content-Type": {"application/json"}, "Request-Id": {"req_1"}, "Via": {"1.1 google"},
		"Anthropic-Ratelimit-Some-New-Status": {"allowed"}} // no field Observe reads
	if n := testing.AllocsPerRun(100, func() { tr.Observe(plain, t0) }); n != 0 {
		t.Errorf("%v allocations per response without", n)
	}
	if len(tr.Snapshot()) != 4 {
		t.Errorf("snapshot %v", tr.Snapshot())
	}
}

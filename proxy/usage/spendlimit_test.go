package usage

import (
	"net/http"
	"testing"
)

func TestIsSpendOrQuotaLimit(t *testing.T) {
	quota := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	rateLimitBody := []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}`)
	for _, tc := range []struct {
		name   string
		status int
		h      http.Header
		body   string
		want   bool
	}{
		{"402 billing", 402, nil, `{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"}}`, true},
		{"400 workspace usage limits", 400, nil, `{"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified workspace API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."}}`, true},
		{"400 other", 400, nil, `{"type":"error","error":{"type":"invalid_request_error","message":"messages: field required"}}`, false},
		{"429 enforced spend limit", 429, nil, `{"type":"error","error":{"type":"rate_limit_error","message":"spend limit","details":{"error_code":"enforced_spend_limit_reached"}}}`, true},
		{"429 ordinary rate limit", 429, quota("retry-after", "7"), string(rateLimitBody), false},
		{"429 quota rejected", 429, quota(
			"anthropic-ratelimit-unified-status", "rejected",
			"anthropic-ratelimit-unified-representative-claim", "five_hour",
			"anthropic-ratelimit-unified-5h-utilization", "1.0"), string(rateLimitBody), true},
		{"429 five_hour spent, status missing", 429, quota(
			"anthropic-ratelimit-unified-representative-claim", "five_hour",
			"anthropic-ratelimit-unified-5h-utilization", "1"), "", true},
		{"429 with subscription headers not spent", 429, quota(
			"anthropic-ratelimit-unified-status", "allowed",
			"anthropic-ratelimit-unified-representative-claim", "five_hour",
			"anthropic-ratelimit-unified-5h-utilization", "0.42"), string(rateLimitBody), false},
		{"200 rejected header is no error", 200, quota("anthropic-ratelimit-unified-status", "rejected"), "", false},
		{"529 overloaded", 529, nil, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, false},
		{"429 garbage body", 429, nil, `<html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSpendOrQuotaLimit(tc.status, tc.h, []byte(tc.body)); got != tc.want {
				t.Errorf("IsSpendOrQuotaLimit(%d) = %v, want %v", tc.status, got, tc.want)
			}
		})
	}
}

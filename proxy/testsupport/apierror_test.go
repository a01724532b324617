package testsupport

import (
	"encoding/json"
	"testing"
	"time"
)

func TestErrorScenarios(t *testing.T) {
	f := NewFakeAPI(t)
	tests := []struct {
		scenario string
		status   int
		typ      string
		retry    string
	}{
		{ScenarioRateLimited, 429, "rate_limit_error", "7"},
		{ScenarioRateLimited + ";retry=30", 429, "rate_limit_error", "30"},
		{ScenarioOverloaded, 529, "overloaded_error", ""},
		{ScenarioError, 500, "api_error", ""},
		{ScenarioError + ";status=401", 401, "authentication_error", ""},
		{ScenarioError + ";status=413", 413, "request_too_large", ""},
		{ScenarioError + ";status=504", 504, "timeout_error", ""},
		{"no_such_scenario", 400, "invalid_request_error", ""},
		{ScenarioStream + ";gap=fast", 400, "invalid_request_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			resp, body, err := post(t, f, tt.scenario, "/v1/messages", `{}`)
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.status, err)
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			rid := resp.Header.Get("request-id")
			if e.Type != "error" || e.Error.Type != tt.typ || e.Error.Message == "" || e.RequestID != rid || rid == "" {
				t.Fatalf("body %s (request-id %q)", body, rid)
			}
			if got := resp.Header.Get("retry-after"); got != tt.retry {
				t.Fatalf("retry-after %q, want %q", got, tt.retry)
			}
			if tt.status == 429 && resp.Header.Get("anthropic-ratelimit-tokens-remaining") != "0" {
				t.Fatalf("rate limit headers not exhausted: %v", resp.Header)
			}
			reset := resp.Header.Get("anthropic-ratelimit-input-tokens-reset")
			if _, err := time.Parse(time.RFC3339, reset); err != nil {
				t.Fatalf("reset %q: %v", reset, err)
			}
			if _, err := Body(tt.scenario); err == nil {
				t.Fatal("Body of an error scenario should be request-dependent")
			}
		})
	}
}

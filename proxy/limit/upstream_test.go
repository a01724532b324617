package limit

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestFollowUpstream: a credential whose Anthropic headroom is 5 % or less
// waits for its reset; another credential, or a roomy reading, does not.
func TestFollowUpstream(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l, err := New(Options{Config: Config{FollowUpstream: true, MaxWaitSeconds: 60, QueueWaitSeconds: 60}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	reset := now.Add(30 * time.Second)
	h := http.Header{}
	h.Set("anthropic-ratelimit-requests-limit", "4000")
	h.Set("anthropic-ratelimit-requests-remaining", "3500")
	h.Set("anthropic-ratelimit-requests-reset", now.Add(time.Minute).Format(time.RFC3339))
	h.Set("anthropic-ratelimit-output-tokens-limit", "400000")
	h.Set("anthropic-ratelimit-output-tokens-remaining", "20000") // exactly 5 %
	h.Set("anthropic-ratelimit-output-tokens-reset", reset.Format(time.RFC3339))
	l.observe("key-a", h)
	if w := l.waitFor("key-a", now); w != 30*time.Second {
		t.Fatalf("wait %v, want 30s (until the output-token limit resets)", w)
	}
	if w := l.waitFor("key-b", now); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	// The client leaves while waiting: the wait ends with it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.followUpstream(ctx, "key-a", l.cfg.Load()); !errors.Is(err, context.Canceled) {
		t.Fatalf("followUpstream with the client gone: %v", err)
	}
	// A wait longer than max_wait is not made: the request goes.
	c := *l.cfg.Load()
	c.MaxWaitSeconds = 10
	if err := l.followUpstream(context.Background(), "key-a", &c); err != nil {
		t.Fatal(err)
	}
	// A roomy reading clears it.
	h.Set("anthropic-ratelimit-output-tokens-remaining", "300000")
	l.observe("key-a", h)
	if w := l.waitFor("key-a", now); w != 0 {
		t.Fatalf("wait %v after headroom came back", w)
	}
}

package usage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// zone is a time zone away from UTC, so that "today" and "this month" are
// checked in local time.
var zone = time.FixedZone("UTC+8", 8*3600)

// hnow is the handlers' fake now: 20 Nov 2026 12:30 local.
var hnow = time.Date(2026, 11, 20, 12, 30, 0, 0, zone)

// fixture are the stored records, oldest first (IDs follow time). Costs
// are the hand-computed figures of the meter tests.
func fixture() []storage.Record {
	at := func(d time.Duration) time.Time { return hnow.Add(-d) }
	return []storage.Record{
		// last month (26 Oct): not in this month's spend
		{Time: at(25 * 24 * time.Hour), Path: "/v1/messages", Model: "claude-haiku-5-5", Status: 200, Route: "direct",
			Tokens: storage.Tokens{Input: 40_000, CacheRead: 60_000, Output: 1000}, CostUSD: 0.0051, PriceKnown: true,
			FirstByte: 200 * time.Millisecond, Total: time.Second},
		// 17 Nov: this month, not today
		{Time: at(3 * 24 * time.Hour), Path: "/v1/messages", Model: "claude-opus-5-5", Stream: true, Status: 200, Route: "direct",
			Tokens: storage.Tokens{Input: 40, Output: 1200}, CostUSD: 0.02416, PriceKnown: true,
			FirstByte: 400 * time.Millisecond, FirstToken: 900 * time.Millisecond, Total: 8 * time.Second},
		// today, 2 h ago
		{Time: at(2 * time.Hour), Path: "/v1/messages", Model: "claude-haiku-4-5-20251001", Stream: true, Status: 200, Route: "socks",
			Tokens: storage.Tokens{Input: 500, Output: 89}, CostUSD: 0.000945, PriceKnown: true,
			FirstByte: 150 * time.Millisecond, FirstToken: 300 * time.Millisecond, Total: 2 * time.Second},
		// 10 min ago: unknown price
		{Time: at(10 * time.Minute), Path: "/v1/messages", Model: "claude-opus-6", Status: 200, Route: "direct",
			Tokens: storage.Tokens{Input: 10, Output: 20}, PriceKnown: false,
			FirstByte: 300 * time.Millisecond, Total: time.Second},
		// the last 5 minutes
		{Time: at(4 * time.Minute), Path: "/v1/messages", Model: "claude-sonnet-4-5", Status: 429, Route: "direct",
			ErrorType: "rate_limit_error", ErrorClass: storage.ClassUpstream4xx, PriceKnown: true,
			FirstByte: 100 * time.Millisecond, Total: 100 * time.Millisecond},
		{Time: at(3 * time.Minute), Path: "/v1/messages", Model: "claude-opus-4-5-20251101", Stream: true, Status: 200, Route: "socks",
			Tokens: storage.Tokens{Input: 25, Output: 420, CacheWrite5m: 1000, CacheWrite1h: 2000, CacheRead: 10000}, CostUSD: 0.041875, PriceKnown: true,
			FirstByte: 500 * time.Millisecond, FirstToken: 800 * time.Millisecond, Total: 5 * time.Second},
		{Time: at(2 * time.Minute), Path: "/v1/messages", Model: "claude-sonnet-4-5-20250929", Status: 200, Route: "direct",
			Tokens: storage.Tokens{Input: 1200, Output: 350}, CostUSD: 0.00885, PriceKnown: true,
			FirstByte: 300 * time.Millisecond, Total: 2 * time.Second},
	}
}

func openFixture(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "ferry.db"), storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rec := storage.NewRecorder(db, storage.RecorderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	for _, r := range fixture() {
		rec.Record(r)
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	return db
}

func newTestHandlers(t *testing.T, db *storage.DB) *Handlers {
	limits := &HeadroomTracker{}
	h := http.Header{}
	h.Set("anthropic-ratelimit-tokens-limit", "400000")
	h.Set("anthropic-ratelimit-tokens-remaining", "399000")
	limits.Observe(h, hnow)
	return NewHandlers(HandlersOptions{
		DB: db, Headroom: limits, Now: func() time.Time { return hnow }, Location: zone,
		QueueDropped: func() uint64 { return 7 },
		Health: func() []UpstreamHealth {
			return []UpstreamHealth{{Route: "socks", Up: true, Latency: 30 * time.Millisecond}}
		},
	})
}

func get(t *testing.T, h http.Handler, target string) (int, []byte) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w.Code, w.Body.Bytes()
}

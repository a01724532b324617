package usage

import (
	"encoding/json"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
)

func TestStatsHandler(t *testing.T) {
	db := openFixture(t)
	hs := newTestHandlers(t, db)

	code, body := get(t, hs.StatsHandler(), "/_ferry/stats?window=5m")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"requests", "success_rate", "errors", "latency_ms", "tokens", "cost_usd", "unknown_price_requests",
		"spend_today_usd", "spend_month_usd", "by_model", "by_route", "ratelimit", "queue_dropped"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("stats has no %q: %s", k, body)
		}
	}
	var s Stats
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	// The last 5 minutes: the 429, the opus stream and the sonnet call.
	if s.Requests != 3 || !near(s.SuccessRate, 2.0/3) {
		t.Errorf("requests %d success %v", s.Requests, s.SuccessRate)
	}
	if s.Errors.ByClass[storage.ClassUpstream4xx] != 1 || s.Errors.ByType["rate_limit_error"] != 1 {
		t.Errorf("errors %+v", s.Errors)
	}
	// 0.041875 + 0.00885
	if !near(s.CostUSD, 0.050725) || s.UnknownPriceRequests != 0 {
		t.Errorf("cost %v unknown %d", s.CostUSD, s.UnknownPriceRequests)
	}
	if want := (storage.Tokens{Input: 1225, Output: 770, CacheWrite5m: 1000, CacheWrite1h: 2000, CacheRead: 10000}); s.Tokens != want {
		t.Errorf("tokens %+v, want %+v", s.Tokens, want)
	}
	// today: 0.00885 + 0.041875 + 0.000945; this month: + 0.02416
	if !near(s.SpendTodayUSD, 0.05167) || !near(s.SpendMonthUSD, 0.07583) {
		t.Errorf("spend today %v month %v", s.SpendTodayUSD, s.SpendMonthUSD)
	}
	if b := s.ByRoute["socks"]; b.Requests != 1 || !near(b.CostUSD, 0.041875) {
		t.Errorf("by_route socks %+v", b)
	}
	if b := s.ByModel["claude-sonnet-4-5"]; b.Requests != 1 || b.Errors != 1 {
		t.Errorf("by_model claude-sonnet-4-5 %+v", b)
	}
	if s.LatencyMS.FirstToken.Count != 1 || s.LatencyMS.Total.Count != 3 || s.LatencyMS.FirstByte.P50 <= 0 {
		t.Errorf("latency %+v", s.LatencyMS)
	}
	if r := s.Headroom["tokens"]; r.Limit != 400000 || r.Remaining != 399000 {
		t.Errorf("ratelimit %+v", s.Headroom)
	}
	if s.QueueDropped != 7 {
		t.Errorf("queue_dropped %d", s.QueueDropped)
	}

	// 15 minutes takes in the unknown-price request, counted apart.
	_, body = get(t, hs.StatsHandler(), "/_ferry/stats?window=15m")
	json.Unmarshal(body, &s)
	if s.Requests != 4 || s.UnknownPriceRequests != 1 || !near(s.CostUSD, 0.050725) {
		t.Errorf("15m: requests %d unknown %d cost %v", s.Requests, s.UnknownPriceRequests, s.CostUSD)
	}
	for _, w := range Windows {
		if code, body := get(t, hs.StatsHandler(), "/_ferry/stats?window="+w); code != 200 {
			t.Errorf("window %s: %d %s", w, code, body)
		}
	}
	if code, _ := get(t, hs.StatsHandler(), "/_ferry/stats?window=soon"); code != 400 {
		t.Errorf("bad window: %d", code)
	}
}

package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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
	limits := &RateLimitTracker{}
	h := http.Header{}
	h.Set("anthropic-ratelimit-tokens-limit", "400000")
	h.Set("anthropic-ratelimit-tokens-remaining", "399000")
	limits.Observe(h, hnow)
	return NewHandlers(HandlersOptions{
		DB: db, RateLimits: limits, Now: func() time.Time { return hnow }, Location: zone,
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
	if r := s.RateLimit["tokens"]; r.Limit != 400000 || r.Remaining != 399000 {
		t.Errorf("ratelimit %+v", s.RateLimit)
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

func TestRequestsHandler(t *testing.T) {
	db := openFixture(t)
	hs := newTestHandlers(t, db)
	code, body := get(t, hs.RequestsHandler(), "/_ferry/requests?limit=2")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var page RequestsPage
	json.Unmarshal(body, &page)
	if len(page.Records) != 2 || page.Records[0].Model != "claude-sonnet-4-5-20250929" || page.Records[1].Model != "claude-opus-4-5-20251101" {
		t.Fatalf("page 1: %s", body)
	}
	r := page.Records[1]
	if !r.Stream || r.LatencyMS.FirstToken != 800 || r.LatencyMS.FirstByte != 500 || r.LatencyMS.Total != 5000 ||
		!near(r.CostUSD, 0.041875) || !r.PriceKnown || r.Tokens.CacheWrite1h != 2000 || r.Route != "socks" {
		t.Errorf("record %+v", r)
	}
	var keys []map[string]json.RawMessage
	var raw struct {
		Records json.RawMessage `json:"records"`
	}
	json.Unmarshal(body, &raw)
	json.Unmarshal(raw.Records, &keys)
	for _, k := range []string{"time", "model", "path", "stream", "status", "error_type", "route", "tokens", "latency_ms", "cost_usd", "price_known"} {
		if _, ok := keys[0][k]; !ok {
			t.Errorf("record has no %q", k)
		}
	}
	// The next page goes on where this one stopped.
	_, body = get(t, hs.RequestsHandler(), "/_ferry/requests?limit=2&before="+itoa(page.NextBefore))
	var page2 RequestsPage
	json.Unmarshal(body, &page2)
	if len(page2.Records) != 2 || page2.Records[0].ErrorType != "rate_limit_error" || page2.Records[1].Model != "claude-opus-6" {
		t.Errorf("page 2: %s", body)
	}
	if code, _ := get(t, hs.RequestsHandler(), "/_ferry/requests?limit=x"); code != 400 {
		t.Errorf("bad limit: %d", code)
	}
}

func itoa(n uint64) string { return strings.TrimSpace(string(must(json.Marshal(n)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestUsageReport(t *testing.T) {
	db := openFixture(t)
	hs := newTestHandlers(t, db)
	code, body := get(t, hs.UsageHandler(), "/_ferry/usage?since=30d&by=model")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var rep UsageReport
	json.Unmarshal(body, &rep)
	if len(rep.Rows) != 7 || rep.Rows[0].Key != "claude-opus-4-5-20251101" || rep.Total.Requests != 7 || rep.Total.UnknownPrice != 1 {
		t.Errorf("by model: %s", body)
	}
	// 0.0051 + 0.02416 + 0.000945 + 0.041875 + 0.00885
	if !near(rep.Total.CostUSD, 0.08093) {
		t.Errorf("total cost %v", rep.Total.CostUSD)
	}

	_, body = get(t, hs.UsageHandler(), "/_ferry/usage?since=7d&by=day")
	json.Unmarshal(body, &rep)
	// 13 Nov (local) to 20 Nov: 8 days, the 17th and the 20th used.
	if len(rep.Rows) != 8 || rep.Rows[0].Key != "2026-11-13" || rep.Rows[7].Key != "2026-11-20" {
		t.Fatalf("by day: %s", body)
	}
	if rep.Rows[4].Requests != 1 || !near(rep.Rows[4].CostUSD, 0.02416) || rep.Rows[7].Requests != 5 || !near(rep.Rows[7].CostUSD, 0.05167) {
		t.Errorf("by day rows: %+v", rep.Rows)
	}

	_, body = get(t, hs.UsageHandler(), "/_ferry/usage?since=24h&by=route")
	json.Unmarshal(body, &rep)
	if len(rep.Rows) != 2 || rep.Rows[0].Key != "socks" || rep.Rows[0].Requests != 2 || rep.Rows[1].Requests != 3 {
		t.Errorf("by route: %s", body)
	}

	var tbl, csvOut bytes.Buffer
	if err := WriteUsageTable(&tbl, rep); err != nil {
		t.Fatal(err)
	}
	if err := WriteUsageCSV(&csvOut, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(tbl.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ROUTE") || !strings.HasPrefix(lines[3], "TOTAL") ||
		!strings.Contains(lines[2], "+ 1 unpriced") || strings.Index(lines[1], "$") != strings.Index(lines[2], "$") {
		t.Errorf("table:\n%s", tbl.String())
	}
	if !strings.HasPrefix(csvOut.String(), "route,requests,errors,input,output,cache_write_5m,cache_write_1h,cache_read,cost_usd,unknown_price\nsocks,2,0,525,509,1000,2000,10000,0.04282,0\n") {
		t.Errorf("csv:\n%s", csvOut.String())
	}
	if code, _ := get(t, hs.UsageHandler(), "/_ferry/usage?by=week"); code != 400 {
		t.Errorf("bad by: %d", code)
	}
}

func TestPricesHandler(t *testing.T) {
	db := openFixture(t)
	prices, err := LoadPrices(db)
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHandlers(HandlersOptions{DB: db, Prices: prices})
	mux := http.NewServeMux()
	hs.Register(func(pattern string, h http.Handler, mutating bool) {
		if strings.HasPrefix(pattern, "GET ") == mutating {
			t.Errorf("%s: mutating %v", pattern, mutating)
		}
		mux.Handle(pattern, h)
	})
	do := func(method, body string) (int, PriceTable) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(method, "/_ferry/prices", strings.NewReader(body)))
		var tbl PriceTable
		json.Unmarshal(w.Body.Bytes(), &tbl)
		return w.Code, tbl
	}
	code, tbl := do(http.MethodGet, "")
	if code != 200 || len(tbl.Rows) != len(DefaultTable().Rows) || tbl.BatchFactor != 0.5 {
		t.Fatalf("GET: %d %+v", code, tbl)
	}
	if code, _ := do(http.MethodPut, `{"model":"claude-opus-6","input":6,"output":30}`); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	if code, _ := do(http.MethodPut, `{"model":"claude-opus-6","input":-6}`); code != 400 {
		t.Errorf("PUT bad row: %d", code)
	}
	if code, _ := do(http.MethodPost, `{"rows":[{"model":"claude-x-1","input":1,"output":2}],"multipliers":[{"field":"speed","value":"fast","factor":6,"models":["claude-opus-4-6"]}]}`); code != 200 {
		t.Fatalf("POST: %d", code)
	}
	// Stored in the database: a fresh load sees the import (which replaced the PUT).
	again, _ := LoadPrices(db)
	if _, ok := again.Lookup("claude-x-1", hnow); !ok {
		t.Error("import not stored")
	}
	if _, ok := again.Lookup("claude-opus-6", hnow); ok {
		t.Error("import did not replace the earlier change")
	}
	if usd, _, _ := again.Cost("claude-opus-4-6", storage.Tokens{Output: 1_000_000}, hnow, false, map[string]string{"speed": "fast"}); !near(usd, 150) {
		t.Errorf("fast opus-4-6: %v, want 25×6", usd)
	}
	if code, _ := do(http.MethodDelete, ""); code != 200 {
		t.Fatalf("DELETE: %d", code)
	}
	again, _ = LoadPrices(db)
	if _, ok := again.Lookup("claude-x-1", hnow); ok {
		t.Error("reset not stored")
	}
	var out bytes.Buffer
	if err := WritePricesTable(&out, prices.Table()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "claude-haiku-5-5") || !strings.Contains(out.String(), "prompt > 100,000") {
		t.Errorf("prices table:\n%s", out.String())
	}
}

func TestMetricsHandler(t *testing.T) {
	db := openFixture(t)
	hs := newTestHandlers(t, db)
	for _, r := range fixture() {
		hs.Observe(&r)
	}
	code, body := get(t, hs.Metrics().Handler(), "/_ferry/metrics")
	if code != 200 {
		t.Fatalf("%d", code)
	}
	text := string(body)
	for _, want := range []string{
		`ferry_requests_total{model="claude-sonnet-4-5",route="direct",status_class="4xx"} 1`,
		`ferry_requests_total{model="claude-opus-4-5-20251101",route="socks",status_class="2xx"} 1`,
		`ferry_tokens_total{class="cache_write_1h",model="claude-opus-4-5-20251101"} 2000`,
		`ferry_cost_usd_total{model="claude-opus-4-5-20251101"} 0.041875`,
		`ferry_unknown_price_requests_total{model="claude-opus-6"} 1`,
		`ferry_request_errors_total{class="upstream_4xx"} 1`,
		`ferry_first_token_seconds_count{route="socks"} 2`,
		`ferry_upstream_up{route="socks"} 1`,
		`ferry_record_queue_dropped_total 7`,
		`ferry_cache_hits_total 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestSeriesHandler(t *testing.T) {
	db := openFixture(t)
	hs := newTestHandlers(t, db)
	code, body := get(t, hs.SeriesHandler(), "/_ferry/series?window=1h&points=12")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var s SeriesJSON
	json.Unmarshal(body, &s)
	if s.StepS != 300 || len(s.Points) != 12 {
		t.Fatalf("step %d, %d points", s.StepS, len(s.Points))
	}
	var n uint64
	var cost float64
	for _, p := range s.Points {
		n += p.Requests
		cost += p.CostUSD
	}
	// The hour holds the unknown-price request, the 429 and two priced ones.
	if n != 4 || !near(cost, 0.050725) {
		t.Errorf("%d requests, $%v", n, cost)
	}
	if code, _ := get(t, hs.SeriesHandler(), "/_ferry/series?points=0"); code != 400 {
		t.Errorf("points=0: %d", code)
	}
}

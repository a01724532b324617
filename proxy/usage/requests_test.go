package usage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

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

// A record's attempts reach /_ferry/requests: route, failure class, status
// and time of each try, the last one the answer's.
func TestRequestJSONAttempts(t *testing.T) {
	rec := storage.Record{Route: "Live", Attempts: []storage.Attempt{
		{Route: "Dead", Class: "connect", Duration: 3 * time.Millisecond},
		{Route: "Live", Status: 200, Duration: 250 * time.Millisecond},
	}}
	b := must(json.Marshal(NewRequestJSON(rec)))
	want := `"attempts":[{"route":"Dead","class":"connect","duration_ms":3},{"route":"Live","status":200,"duration_ms":250}]`
	if !strings.Contains(string(b), want) {
		t.Fatalf("%s\nwant %s", b, want)
	}
	if b := must(json.Marshal(NewRequestJSON(storage.Record{}))); strings.Contains(string(b), "attempts") {
		t.Fatalf("a record without attempts: %s", b)
	}
}

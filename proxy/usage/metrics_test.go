package usage

import (
	"strings"
	"testing"
)

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

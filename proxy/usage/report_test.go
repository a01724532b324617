package usage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

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

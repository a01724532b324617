package usage

import (
	"encoding/json"
	"testing"
)

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

package ui

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// The dashboard's shaping without widgets: rates per minute, OK as the
// requests without an error class, a gap (NaN) for latency of a step
// without requests, the spend unit by step.
func TestShapeCharts(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	series := []SeriesPoint{
		{Time: t0, Requests: 10, ErrorsByClass: map[storage.ErrorClass]int64{storage.ClassUpstream5xx: 2},
			Tokens: storage.Tokens{Input: 100, Output: 40, CacheWrite5m: 6, CacheWrite1h: 4, CacheRead: 20},
			Total:  Percentiles{P50: 200 * time.Millisecond, P95: 900 * time.Millisecond, P99: time.Second}},
		{Time: t0.Add(2 * time.Minute)}, // no requests
	}
	spend := []SeriesPoint{{Time: t0, CostUSD: 1.5}}
	c := ShapeCharts(series, 2*time.Minute, spend, 24*time.Hour)

	if !slices.Equal(c.Times, []time.Time{t0, t0.Add(2 * time.Minute)}) {
		t.Fatalf("times %v", c.Times)
	}
	if len(c.Requests) != 1+len(errorClasses) {
		t.Fatalf("%d request series", len(c.Requests))
	}
	if ok := c.Requests[0].Values; ok[0] != 4 || ok[1] != 0 { // (10-2)/2 min
		t.Errorf("OK per minute %v, want [4 0]", ok)
	}
	i5xx := slices.Index(errorClasses, storage.ClassUpstream5xx)
	if v := c.Requests[1+i5xx].Values[0]; v != 1 {
		t.Errorf("5xx per minute %v, want 1", v)
	}
	if w := c.Tokens[2].Values[0]; w != 5 { // (6+4)/2
		t.Errorf("cache writes per minute %v, want 5", w)
	}
	if p99 := c.Total[2].Values; p99[0] != 1000 || !math.IsNaN(p99[1]) {
		t.Errorf("total p99 %v, want [1000 NaN]", p99)
	}
	if c.SpendUnit != "USD per day" || c.Spend[0].Values[0] != 1.5 {
		t.Errorf("spend %q %v", c.SpendUnit, c.Spend[0].Values)
	}
	if c := ShapeCharts(nil, time.Minute, nil, time.Hour); c.SpendUnit != "USD per hour" || len(c.Times) != 0 {
		t.Errorf("empty: %+v", c)
	}
}

func TestModelOptionsAndFilter(t *testing.T) {
	recs := []storage.Record{
		{Model: "claude-sonnet-4-5", Status: 200},
		{Model: "claude-haiku-4-5", Status: 529, ErrorClass: storage.ClassUpstream5xx},
		{Model: "claude-sonnet-4-5", Status: 400, ErrorClass: storage.ClassClient4xx},
		{Status: 401, ErrorClass: storage.ClassClient4xx},
	}
	if got := ModelOptions(recs); !slices.Equal(got, []string{"All models", "claude-haiku-4-5", "claude-sonnet-4-5"}) {
		t.Fatalf("models %q", got)
	}
	if got := FilterRecords(nil, recs, "claude-sonnet-4-5", 0); len(got) != 2 {
		t.Errorf("sonnet: %d", len(got))
	}
	if got := FilterRecords(nil, recs, "", 2); len(got) != 3 { // errors
		t.Errorf("errors: %d", len(got))
	}
	if got := FilterRecords(nil, recs, "claude-sonnet-4-5", 1); len(got) != 1 || got[0].Status != 200 { // successful
		t.Errorf("successful sonnet: %+v", got)
	}
}

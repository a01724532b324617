package ui

import (
	"slices"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

func TestCacheFigures(t *testing.T) {
	st := Stats{Requests: 200, CacheHits: 30, Coalesced: 10, SavedUSD: 1.25, SavedTokens: 480000}
	if got := CacheShare(st); got != 0.2 {
		t.Errorf("share %v, want 0.2", got)
	}
	if got := CacheShare(Stats{}); got != 0 {
		t.Errorf("share without requests %v", got)
	}
	if got := CacheAnsweredText(st); got != "30 from the cache, 10 shared in flight" {
		t.Errorf("answered %q", got)
	}
	if got := CacheSavedText(st); got != "480k tokens not paid for" {
		t.Errorf("saved %q", got)
	}
}

func TestFilterHitsText(t *testing.T) {
	if got := FilterHitsText(nil); got != "No filter hits in this window." {
		t.Errorf("none: %q", got)
	}
	got := FilterHitsText(map[string]int64{"b": 2, "secrets": 5, "a": 2, "zero": 0})
	if want := "secrets: 5 hits\na: 2 hits\nb: 2 hits"; got != want {
		t.Errorf("FilterHitsText = %q, want %q", got, want)
	}
}

// One series per list with hits anywhere in the window, by name, in hits
// per minute; steps without hits are 0.
func TestFilterHitSeries(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	series := []SeriesPoint{
		{Time: t0, FilterHits: map[string]int64{"secrets": 4}},
		{Time: t0.Add(2 * time.Minute)},
		{Time: t0.Add(4 * time.Minute), FilterHits: map[string]int64{"zh-words": 2, "secrets": 2}},
	}
	got := FilterHitSeries(series, 2*time.Minute)
	if len(got) != 2 || got[0].Name != "secrets" || got[1].Name != "zh-words" {
		t.Fatalf("series %+v", got)
	}
	if !slices.Equal(got[0].Values, []float64{2, 0, 1}) || !slices.Equal(got[1].Values, []float64{0, 0, 1}) {
		t.Errorf("values %v %v", got[0].Values, got[1].Values)
	}
	if FilterHitSeries(series[1:2], time.Minute) != nil {
		t.Error("a series for a window without hits")
	}
}

func TestContentDetails(t *testing.T) {
	if got := ContentDetails(storage.Record{Status: 200}); len(got) != 0 {
		t.Errorf("a plain record: %q", got)
	}
	got := ContentDetails(storage.Record{CacheHit: true, SavedUSD: 0.02, SavedTokens: 5200, FilterHits: []storage.FilterHit{
		{List: "secrets", Entry: "4 github-token", Action: "redact", Count: 2},
		{List: "secrets", Entry: "9 jwt", Action: "answer:flag", Count: 1},
	}})
	want := [][2]string{
		{"Cache", "Answered from the cache"},
		{"Saved", "$0.02 and 5200 tokens"},
		{"Filters", "secrets #4 github-token: Redact × 2 in the request\nsecrets #9 jwt: Record only × 1 in the answer"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ContentDetails = %q, want %q", got, want)
	}
	if got := ContentDetails(storage.Record{Coalesced: true}); len(got) != 1 || got[0][1] != "Shared with an identical request in flight" {
		t.Errorf("coalesced: %q", got)
	}
}

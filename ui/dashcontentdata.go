package ui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/storage"
)

// The dashboard's cache and filter figures: pure functions of what the
// core returned, tested without widgets (dashcontent.go shows them).

// CacheShare is the share of the window's requests answered locally (from
// the cache or shared in flight), 0..1; 0 without requests.
func CacheShare(st Stats) float64 {
	if st.Requests == 0 {
		return 0
	}
	return float64(st.CacheHits+st.Coalesced) / float64(st.Requests)
}

// CacheAnsweredText details the share: hits and shared answers.
func CacheAnsweredText(st Stats) string {
	return lang.L("{{.Hits}} from the cache, {{.Shared}} shared in flight", map[string]any{"Hits": st.CacheHits, "Shared": st.Coalesced})
}

// CacheSavedText is what the cache saved in the window in tokens.
func CacheSavedText(st Stats) string {
	return lang.L("{{.Tokens}} tokens not paid for", map[string]any{"Tokens": FormatCount(float64(st.SavedTokens))})
}

// FilterHitsText lists the window's filter hits by list, most first.
func FilterHitsText(hits map[string]int64) string {
	names := filterNames(hits)
	if len(names) == 0 {
		return lang.L("No filter hits in this window.")
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(hits[b], hits[a]) })
	var lines []string
	for _, n := range names[:min(len(names), maxBreakdown)] {
		lines = append(lines, lang.L("{{.List}}: {{.Hits}} hits", map[string]any{"List": n, "Hits": hits[n]}))
	}
	return strings.Join(lines, "\n")
}

// filterNames are the lists with hits, sorted by name.
func filterNames(hits map[string]int64) []string {
	var out []string
	for n, v := range hits {
		if v > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// FilterHitSeries is the filter hits chart: one series per list with hits
// anywhere in the window (by name), hits per minute of each step.
func FilterHitSeries(series []SeriesPoint, step time.Duration) []ChartSeries {
	all := map[string]int64{}
	for _, p := range series {
		for n, v := range p.FilterHits {
			all[n] += v
		}
	}
	perMin := step.Minutes()
	var out []ChartSeries
	for i, n := range filterNames(all) {
		vals := make([]float64, len(series))
		for j, p := range series {
			vals[j] = float64(p.FilterHits[n]) / perMin
		}
		out = append(out, ChartSeries{Name: n, Color: Palette[i%len(Palette)], Values: vals})
	}
	return out
}

// ContentDetails are a record's cache and filter rows for its details:
// how it was answered when not by Anthropic, what that saved, and which
// filter entries matched (never the text they matched). A record the
// cache and filters had no part in has none.
func ContentDetails(r storage.Record) [][2]string {
	var out [][2]string
	switch {
	case r.CacheHit:
		out = append(out, [2]string{lang.L("Cache"), lang.L("Answered from the cache")})
	case r.Coalesced:
		out = append(out, [2]string{lang.L("Cache"), lang.L("Shared with an identical request in flight")})
	}
	if r.SavedUSD != 0 || r.SavedTokens != 0 {
		out = append(out, [2]string{lang.L("Saved"), lang.L("{{.Cost}} and {{.Tokens}} tokens", map[string]any{
			"Cost": FormatUSD(r.SavedUSD), "Tokens": FormatCount(float64(r.SavedTokens))})})
	}
	if len(r.FilterHits) > 0 {
		var lines []string
		for _, h := range r.FilterHits {
			action, answer := strings.CutPrefix(h.Action, "answer:")
			where := lang.L("in the request")
			if answer {
				where = lang.L("in the answer")
			}
			lines = append(lines, lang.L("{{.List}} #{{.Entry}}: {{.Action}} × {{.Count}} {{.Where}}", map[string]any{
				"List": h.List, "Entry": h.Entry, "Action": ActionLabel(action), "Count": h.Count, "Where": where}))
		}
		out = append(out, [2]string{lang.L("Filters"), strings.Join(lines, "\n")})
	}
	return out
}

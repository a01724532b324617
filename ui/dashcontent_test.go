package ui

import (
	"testing"

	"fyne.io/fyne/v2/widget"
)

// The dashboard shows the cache's share and savings and the filter hits
// by list, charts the hits per list, and a record's details say how the
// cache and the filters took part.
func TestDashboardShowsCacheAndFilters(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	content := d.dashWin.Content()
	for _, want := range []string{"Answered by the cache", "12.5%", "12 from the cache, 3 shared in flight",
		"Saved by the cache", "$0.75", "250k tokens not paid for", "secrets: 5 hits\nzh-words: 2 hits"} {
		if !hasText(content, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	s := d.dash.content.hitsChart.Series()
	if len(s) != 2 || s[0].Name != "secrets" || s[1].Name != "zh-words" || s[0].Values[10] != 1 || s[1].Values[55] != 2 {
		t.Errorf("filter hits chart: %+v", s)
	}

	d.dash.table.Select(widget.TableCellID{Row: 0, Col: 1})
	if o := d.dashWin.Canvas().Overlays().Top(); o == nil || !hasText(o, "secrets #2 github-token: Redact × 2 in the request") {
		t.Error("details lack the record's filter hits")
	}
	d.dashWin.Canvas().Overlays().Top().Hide()
	d.dashWin.Canvas().Overlays().Remove(d.dashWin.Canvas().Overlays().Top())
	d.dash.table.Select(widget.TableCellID{Row: 1, Col: 1})
	if o := d.dashWin.Canvas().Overlays().Top(); o == nil || !hasText(o, "Answered from the cache") || !hasText(o, "$0.02 and 5200 tokens") {
		t.Error("details lack the cache hit")
	}
}

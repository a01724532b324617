package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// contentCards are the dashboard's cache and filter figures: the share
// of requests the cache answered, what it saved, and the filter hits by
// list with their chart. Main goroutine only.
type contentCards struct {
	root      fyne.CanvasObject
	share     *widget.Label
	answered  *widget.Label
	saved     *widget.Label
	savedToks *widget.Label
	hits      *widget.Label
	hitsChart *Chart
}

func newContentCards() *contentCards {
	c := &contentCards{share: widget.NewLabel("–"), answered: widget.NewLabel(""), saved: widget.NewLabel("–"),
		savedToks: widget.NewLabel(""), hits: widget.NewLabel("")}
	c.share.TextStyle.Bold, c.saved.TextStyle.Bold = true, true
	c.hits.Wrapping = fyne.TextWrapWord
	for _, l := range []*widget.Label{c.answered, c.savedToks} {
		l.Importance = widget.LowImportance
		l.Wrapping = fyne.TextWrapWord
	}
	c.hitsChart = NewChart(StackedBars, lang.L("Filter hits"), lang.L("per minute"), nil)
	cards := container.NewGridWithColumns(2,
		widget.NewCard("", lang.L("Answered by the cache"), container.NewVBox(c.share, c.answered)),
		widget.NewCard("", lang.L("Saved by the cache"), container.NewVBox(c.saved, c.savedToks)),
	)
	c.root = container.NewGridWithColumns(2,
		container.NewVBox(cards, widget.NewCard("", lang.L("Filter hits by list"), c.hits)),
		c.hitsChart)
	return c
}

// apply shows the window's figures and the series' filter hits.
func (c *contentCards) apply(st Stats, series []SeriesPoint, step time.Duration) {
	c.share.SetText(FormatPercent(CacheShare(st)))
	c.answered.SetText(CacheAnsweredText(st))
	c.saved.SetText(FormatUSD(st.SavedUSD))
	c.savedToks.SetText(CacheSavedText(st))
	c.hits.SetText(FilterHitsText(st.FilterHits))
	var times []time.Time
	for _, p := range series {
		times = append(times, p.Time)
	}
	c.hitsChart.SetData(times, FilterHitSeries(series, step))
}

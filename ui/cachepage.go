package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The settings page "Cache" (issue 10): the dedup cache's switch, how long
// an answer is served again and how large the store may grow, what it
// holds and saved, and Clear.

type (
	CacheSettings = coreapi.CacheSettings
	CacheStats    = coreapi.CacheStats
	CachePeriod   = coreapi.CachePeriod
)

// The bounds of the page's fields: the knobs' own (proxy/cache/knobs.go,
// cache.ttl 1s..30d and cache.max_bytes 1MiB..64GiB) in the page's units,
// so a wrong value is explained here, in the user's language.
const (
	maxCacheTTLMinutes = 30 * 24 * 60
	maxCacheMiB        = 64 << 10
)

// ParseCacheForm reads the page's fields: the time in minutes and the size
// limit in MiB (decimals allowed: "0.5" minutes, "1.5" MiB).
func ParseCacheForm(minutes, mib string) (time.Duration, int64, error) {
	m, err := strconv.ParseFloat(strings.TrimSpace(minutes), 64)
	if err != nil || m*60 < 1 || m > maxCacheTTLMinutes {
		return 0, 0, fmt.Errorf("%s", lang.L("keep answers for 1 to 43200 minutes (30 days)"))
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(mib), 64)
	if err != nil || s < 1 || s > maxCacheMiB {
		return 0, 0, fmt.Errorf("%s", lang.L("the size limit must be 1 to 65536 MiB"))
	}
	return time.Duration(m * float64(time.Minute)).Round(time.Second), int64(s * (1 << 20)), nil
}

// cacheFormValues are s's TTL in minutes and size limit in MiB as the
// page's fields show them.
func cacheFormValues(s CacheSettings) (minutes, mib string) {
	return strconv.FormatFloat(s.TTL.Minutes(), 'f', -1, 64), strconv.FormatFloat(float64(s.MaxBytes)/(1<<20), 'f', -1, 64)
}

// FormatBytes shows a size in B, KiB, MiB or GiB.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return trimDecimals(float64(n)/(1<<30)) + " GiB"
	case n >= 1<<20:
		return trimDecimals(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return trimDecimals(float64(n)/(1<<10)) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func trimDecimals(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
}

// CacheStateText says whether the cache answers, and why not.
func CacheStateText(st CacheStats) string {
	switch {
	case !st.Enabled:
		return lang.L("Off: every request goes to Anthropic.")
	case !st.On:
		return lang.L("Off because of an error: {{.Reason}}", map[string]any{"Reason": st.Off})
	}
	return lang.L("On")
}

// CacheStoreText is what the store holds against its cap.
func CacheStoreText(st CacheStats) string {
	return lang.L("{{.Entries}} answers, {{.Size}} of {{.Max}} (file {{.File}})", map[string]any{
		"Entries": st.Entries, "Size": FormatBytes(st.Bytes), "Max": FormatBytes(st.MaxBytes), "File": FormatBytes(st.FileBytes),
	})
}

// CachePeriodText is what the cache did in a period: hits, shared answers,
// requests sent upstream, and what it saved.
func CachePeriodText(p CachePeriod) string {
	return lang.L("{{.Rate}} answered locally: {{.Hits}} from the cache, {{.Shared}} shared in flight, {{.Upstream}} sent to Anthropic. Saved {{.Saved}} and {{.Tokens}} tokens.", map[string]any{
		"Rate": FormatPercent(p.HitRate()), "Hits": p.Hits, "Shared": p.Coalesced, "Upstream": p.Upstream(),
		"Saved": FormatUSD(p.SavedUSD), "Tokens": FormatCount(float64(p.SavedTokens)),
	})
}

func (d *Desktop) cachePage(w fyne.Window) fyne.CanvasObject {
	cur, err := d.core.CacheSettings()
	if err != nil {
		return widget.NewLabel(err.Error())
	}
	on := widget.NewCheck(lang.L("Answer repeated requests from the cache"), nil)
	on.SetChecked(cur.Enabled)
	minutes, mib := widget.NewEntry(), widget.NewEntry()
	m, s := cacheFormValues(cur)
	minutes.SetText(m)
	mib.SetText(s)

	state, store, today, month := widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel("")
	for _, l := range []*widget.Label{state, store, today, month} {
		l.Wrapping = fyne.TextWrapWord
	}
	refresh := func() {
		d.background(func() {
			ctx, cancel := d.queryCtx()
			defer cancel()
			st, err := d.core.CacheStats(ctx)
			fyne.Do(func() {
				if err != nil {
					state.SetText(err.Error())
					return
				}
				state.SetText(CacheStateText(st))
				store.SetText(CacheStoreText(st))
				today.SetText(CachePeriodText(st.Today))
				month.SetText(CachePeriodText(st.Month))
			})
		})
	}
	refresh()

	// change applies f to the settings in effect, so the switch and the
	// fields never undo each other's unsaved state.
	change := func(f func(*CacheSettings)) error {
		s, err := d.core.CacheSettings()
		if err != nil {
			return err
		}
		f(&s)
		return d.core.SetCacheSettings(s)
	}
	on.OnChanged = func(v bool) {
		d.showError(change(func(s *CacheSettings) { s.Enabled = v }), w)
		refresh()
	}
	save := widget.NewButton(lang.L("Save"), func() {
		ttl, size, err := ParseCacheForm(minutes.Text, mib.Text)
		if err != nil {
			d.showError(err, w)
			return
		}
		d.showError(change(func(s *CacheSettings) { s.TTL, s.MaxBytes = ttl, size }), w)
		refresh()
	})
	clear := widget.NewButtonWithIcon(lang.L("Clear cache…"), theme.DeleteIcon(), func() {
		dialog.ShowConfirm(lang.L("Clear cache…"), lang.L("Drop every cached answer? The next request of each kind goes to Anthropic again and is paid for."), func(ok bool) {
			if !ok {
				return
			}
			ctx, cancel := d.queryCtx()
			defer cancel()
			n, err := d.core.ClearCache(ctx)
			if err != nil {
				d.showError(err, w)
				return
			}
			dialog.ShowInformation(lang.L("Clear cache…"), lang.L("Dropped {{.Count}} cached answers.", map[string]any{"Count": n}), w)
			refresh()
		}, w)
	})
	note := widget.NewLabel(lang.L("A request identical to one answered within this time gets the same answer again, at no cost. For a fresh answer to the same prompt, send the header x-ferry-cache: bypass or turn the cache off. The cache keeps answers on this computer (cache.db in the data folder), even when storing bodies is off."))
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.LowImportance

	form := widget.NewForm(
		widget.NewFormItem(lang.L("Dedup cache"), on),
		widget.NewFormItem(lang.L("Keep answers for (minutes)"), minutes),
		widget.NewFormItem(lang.L("Size limit (MiB)"), mib),
		widget.NewFormItem("", container.NewHBox(save)),
		widget.NewFormItem("", note),
		widget.NewFormItem(lang.L("State"), state),
		widget.NewFormItem(lang.L("Stored"), store),
		widget.NewFormItem(lang.L("Today"), today),
		widget.NewFormItem(lang.L("This month"), month),
		widget.NewFormItem("", container.NewHBox(widget.NewButtonWithIcon(lang.L("Refresh"), theme.ViewRefreshIcon(), refresh), clear)),
	)
	return container.NewVScroll(form)
}

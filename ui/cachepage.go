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

// CacheForm is the page's fields as typed: how long each kind of answer
// is served again, in minutes (decimals allowed: "0.5"), and the size
// limit in MiB.
type CacheForm struct {
	Messages, CountTokens, Models, MiB string
}

// cacheForm is s as the page's fields show it.
func cacheForm(s CacheSettings) CacheForm {
	mins := func(d time.Duration) string { return strconv.FormatFloat(d.Minutes(), 'f', -1, 64) }
	return CacheForm{Messages: mins(s.TTL), CountTokens: mins(s.CountTokensTTL), Models: mins(s.ModelsTTL),
		MiB: strconv.FormatFloat(float64(s.MaxBytes)/(1<<20), 'f', -1, 64)}
}

// cacheTTLLabels name the TTL fields, in CacheForm's order.
func cacheTTLLabels() []string {
	return []string{lang.L("Messages: keep for (minutes)"), lang.L("Token counts: keep for (minutes)"), lang.L("Model list: keep for (minutes)")}
}

// Apply checks the fields and sets them in s; s is unchanged on error.
func (f CacheForm) Apply(s *CacheSettings) error {
	var ttls [3]time.Duration
	for i, text := range []string{f.Messages, f.CountTokens, f.Models} {
		m, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || m*60 < 1 || m > maxCacheTTLMinutes {
			return fmt.Errorf("%s", lang.L("{{.Field}}: 1 to 43200 minutes (30 days)", map[string]any{"Field": cacheTTLLabels()[i]}))
		}
		ttls[i] = time.Duration(m * float64(time.Minute)).Round(time.Second)
	}
	mib, err := strconv.ParseFloat(strings.TrimSpace(f.MiB), 64)
	if err != nil || mib < 1 || mib > maxCacheMiB {
		return fmt.Errorf("%s", lang.L("the size limit must be 1 to 65536 MiB"))
	}
	s.TTL, s.CountTokensTTL, s.ModelsTTL, s.MaxBytes = ttls[0], ttls[1], ttls[2], int64(mib*(1<<20))
	return nil
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
	form0 := cacheForm(cur)
	fields := make([]*widget.Entry, 4)
	for i, text := range []string{form0.Messages, form0.CountTokens, form0.Models, form0.MiB} {
		fields[i] = widget.NewEntry()
		fields[i].SetText(text)
	}

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
	d.followLive(refresh)

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
		f := CacheForm{Messages: fields[0].Text, CountTokens: fields[1].Text, Models: fields[2].Text, MiB: fields[3].Text}
		if err := f.Apply(&CacheSettings{}); err != nil {
			d.showError(err, w)
			return
		}
		d.showError(change(func(s *CacheSettings) { _ = f.Apply(s) }), w)
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
	note := hint(lang.L("A request identical to one answered within this time gets the same answer again, at no cost. For a fresh answer to the same prompt, send the header x-ferry-cache: bypass or turn the cache off. The cache keeps answers on this computer (cache.db in the data folder), even when storing bodies is off."))

	form := widget.NewForm(
		widget.NewFormItem(lang.L("Dedup cache"), on),
		widget.NewFormItem(cacheTTLLabels()[0], fields[0]),
		widget.NewFormItem(cacheTTLLabels()[1], fields[1]),
		widget.NewFormItem(cacheTTLLabels()[2], fields[2]),
		widget.NewFormItem(lang.L("Size limit (MiB)"), fields[3]),
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

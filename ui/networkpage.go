package ui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The "Network" settings page (issue 9): the road's knobs (retries,
// timeouts, the stall watchdog, warm connections, HTTP/2 pings) and each
// route's options with its breaker.

func (d *Desktop) networkPage(w fyne.Window) fyne.CanvasObject {
	knobs := d.newKnobEditor(w, "retry.", "road.")
	routes := container.NewVBox()
	var showRoutes func()
	showRoutes = func() { d.fillRouteOptions(w, routes, showRoutes) }
	showRoutes()
	d.followLive(showRoutes) // a breaker opening or closing, a fallback learnt
	note := hint(lang.L("Ferry retries a request that failed on the road before its first byte, on the same route or, in Auto, on the next one; a stream that stalls is ended with an error the client can retry."))
	return container.NewVScroll(container.NewVBox(
		widget.NewCard(lang.L("Retries and timeouts"), "", container.NewVBox(note, knobs.object())),
		widget.NewCard(lang.L("Route options"), "", routes),
	))
}

// BreakerText says what a route's breaker means for its requests.
func BreakerText(state string) string {
	switch state {
	case coreapi.BreakerOpen:
		return lang.L("Breaker open: 3 road failures in a row; skipped while another route works")
	case coreapi.BreakerHalfOpen:
		return lang.L("Breaker half-open: a probe got through; the next request decides")
	}
	return lang.L("Breaker closed: requests go through")
}

// LearntText is what a route learnt from failures, "" when nothing.
func LearntText(o coreapi.RouteOptions, now time.Time) string {
	var parts []string
	if o.LearntHTTP1 {
		parts = append(parts, lang.L("speaks HTTP/1.1 after HTTP/2 protocol errors"))
	}
	if !o.LearntClassicSince.IsZero() {
		parts = append(parts, lang.L("offers classic key shares since {{.Time}}, after post-quantum handshakes were reset", map[string]any{"Time": ClockTime(o.LearntClassicSince, now)}))
	}
	if len(parts) == 0 {
		return ""
	}
	return lang.L("Learnt: {{.What}}", map[string]any{"What": strings.Join(parts, "; ")})
}

// httpOptions and keyShareOptions are the selects' labels, in the order
// of coreapi.RouteHTTPValues and RouteKeyShareValues.
func httpOptions() []string {
	return []string{lang.L("Automatic (HTTP/2, HTTP/1.1 if it fails)"), "HTTP/1.1", "HTTP/2"}
}

func keyShareOptions() []string {
	return []string{lang.L("Automatic (post-quantum, classic if reset)"), lang.L("Classic only"), lang.L("Post-quantum only")}
}

// optionSelect is a select over values shown as labels; changing it calls
// set with the value.
func optionSelect(labels, values []string, cur string, set func(v string)) *widget.Select {
	s := widget.NewSelect(labels, nil)
	for i, v := range values {
		if v == cur {
			s.SetSelectedIndex(i)
		}
	}
	s.OnChanged = func(string) {
		if i := s.SelectedIndex(); i >= 0 && values[i] != cur {
			cur = values[i]
			set(cur)
		}
	}
	return s
}

func (d *Desktop) fillRouteOptions(w fyne.Window, box *fyne.Container, again func()) {
	ctx, cancel := d.queryCtx()
	defer cancel()
	opts, err := d.core.RouteOptions(ctx)
	if err != nil {
		showFailure(box, err)
		return
	}
	now := d.opts.Now()
	var rows []fyne.CanvasObject
	for _, o := range opts {
		o := o
		name := widget.NewLabel(o.Name)
		name.TextStyle.Bold = true
		brk := widget.NewLabel(BreakerText(o.Breaker))
		if o.Breaker == coreapi.BreakerOpen {
			brk.Importance = widget.DangerImportance
		}
		set := func(key string) func(string) {
			return func(v string) {
				ctx, cancel := d.queryCtx()
				defer cancel()
				d.showError(d.core.SetRouteOption(ctx, o.Name, key, v), w)
				d.wake()
				again()
			}
		}
		httpSel := optionSelect(httpOptions(), coreapi.RouteHTTPValues, o.HTTP, set(coreapi.RouteHTTP))
		keySel := optionSelect(keyShareOptions(), coreapi.RouteKeyShareValues, o.KeyShare, set(coreapi.RouteKeyShare))
		form := widget.NewForm(
			widget.NewFormItem(lang.L("HTTP version"), httpSel),
			widget.NewFormItem(lang.L("TLS key share"), keySel),
		)
		row := []fyne.CanvasObject{container.NewBorder(nil, nil, name, nil, brk), form}
		if o.Via {
			httpSel.Disable()
			keySel.Disable()
			row = append(row, widget.NewLabel(lang.L("(--via, this run only)")))
		}
		if l := LearntText(o, now); l != "" {
			learnt := widget.NewLabel(l)
			learnt.Wrapping = fyne.TextWrapWord
			forget := widget.NewButton(lang.L("Forget"), func() {
				ctx, cancel := d.queryCtx()
				defer cancel()
				d.showError(d.core.ForgetRoute(ctx, o.Name), w)
				again()
			})
			row = append(row, container.NewBorder(nil, nil, nil, forget, learnt))
		}
		rows = append(rows, container.NewVBox(row...), widget.NewSeparator())
	}
	if len(rows) == 0 {
		rows = append(rows, widget.NewLabel(lang.L("No routes yet.")))
	}
	box.Objects = rows
	box.Refresh()
}

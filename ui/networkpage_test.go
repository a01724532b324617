package ui

import (
	"testing"

	"fyne.io/fyne/v2/widget"
)

func TestNetworkPage(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).networkPage)
	for _, want := range []string{
		"retry.max_attempts", "Upstream attempts for one request", "road.stream_idle_timeout", "Takes effect when Ferry next starts.",
		"Office SOCKS", "Breaker closed: requests go through",
		"Direct", "Breaker open: 3 road failures in a row; skipped while another route works",
		"Learnt: speaks HTTP/1.1 after HTTP/2 protocol errors; offers classic key shares since 13:30",
	} {
		if !hasText(content, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if hasText(content, "limit.rpm") {
		t.Error("the spend guard's knobs on the Network page")
	}
	// Selects in layout order: road.failover, then HTTP and key share per
	// route.
	sels := find[*widget.Select](content)
	if len(sels) != 5 {
		t.Fatalf("selects = %d", len(sels))
	}
	if sels[0].Selected != "auto_only" || sels[3].Selected != "HTTP/1.1" || sels[4].Selected != "Classic only" {
		t.Errorf("selected: %q %q %q", sels[0].Selected, sels[3].Selected, sels[4].Selected)
	}
	sels[1].SetSelected("HTTP/2")
	if got := lastCall(core); got != "SetRouteOption Office SOCKS http=2" {
		t.Fatalf("http: %q", got)
	}
	sels = find[*widget.Select](content)
	sels[4].SetSelectedIndex(0)
	if got := lastCall(core); got != "SetRouteOption Direct tls_key_share=auto" {
		t.Fatalf("key share: %q", got)
	}
	findButton(t, content, "Forget").OnTapped()
	if got := lastCall(core); got != "ForgetRoute Direct" {
		t.Fatalf("forget: %q", got)
	}
	if hasText(content, "Learnt:") {
		t.Error("forgotten lessons still shown")
	}

	sels = find[*widget.Select](content)
	sels[0].SetSelected("always")
	for _, e := range find[*widget.Entry](content) {
		if e.Text == "5m0s" {
			e.SetText("90s")
		}
	}
	findButton(t, content, "Save").OnTapped()
	calls := core.Calls()
	if got := calls[len(calls)-2:]; got[0] != "SetKnob road.failover always" || got[1] != "SetKnob road.stream_idle_timeout 90s" {
		t.Fatalf("knobs saved: %q", got)
	}
	_ = w
}

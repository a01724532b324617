package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
)

func TestParseCacheForm(t *testing.T) {
	for _, c := range []struct {
		minutes, mib string
		ttl          time.Duration
		size         int64
		bad          string
	}{
		{minutes: "10", mib: "256", ttl: 10 * time.Minute, size: 256 << 20},
		{minutes: " 60 ", mib: "1.5", ttl: time.Hour, size: 3 << 19},
		{minutes: "0.5", mib: "1", ttl: 30 * time.Second, size: 1 << 20},
		{minutes: "43200", mib: "65536", ttl: 30 * 24 * time.Hour, size: 64 << 30},
		{minutes: "0", mib: "256", bad: "minutes"},
		{minutes: "43201", mib: "256", bad: "minutes"},
		{minutes: "ten", mib: "256", bad: "minutes"},
		{minutes: "10", mib: "0.5", bad: "MiB"},
		{minutes: "10", mib: "65537", bad: "MiB"},
		{minutes: "10", mib: "", bad: "MiB"},
	} {
		ttl, size, err := ParseCacheForm(c.minutes, c.mib)
		switch {
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%q %q: error %v, want one naming %s", c.minutes, c.mib, err, c.bad)
		case c.bad == "" && (err != nil || ttl != c.ttl || size != c.size):
			t.Errorf("%q %q: %s %d %v, want %s %d", c.minutes, c.mib, ttl, size, err, c.ttl, c.size)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3 MiB", 256 << 20: "256 MiB", 5 << 30: "5 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// The Cache page: the knobs shown and changed (the switch at once, the
// fields with Save, a wrong value explained and not sent), the store's
// figures, and Clear only after the confirmation.
func TestCachePage(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).cachePage)

	entries := find[*widget.Entry](content)
	if len(entries) != 2 || entries[0].Text != "10" || entries[1].Text != "256" {
		t.Fatalf("fields %q", texts(content))
	}
	for _, want := range []string{"On", "42 answers, 3 MiB of 256 MiB (file 4 MiB)",
		"20.0% answered locally: 30 from the cache, 10 shared in flight, 160 sent to Anthropic. Saved $1.25 and 480k tokens.",
		"Saved $31.50 and 9.6M tokens."} {
		if !hasText(content, want) {
			t.Errorf("page lacks %q: %q", want, texts(content))
		}
	}

	find[*widget.Check](content)[0].SetChecked(false)
	if got := lastCall(core); got != "SetCacheSettings false 10m0s 268435456" {
		t.Fatalf("switch off: %q", got)
	}
	if !hasText(content, "Off: every request goes to Anthropic.") {
		t.Errorf("state not refreshed: %q", texts(content))
	}

	entries[0].SetText("90")
	entries[1].SetText("64")
	findButton(t, content, "Save").OnTapped()
	if got := lastCall(core); got != "SetCacheSettings false 1h30m0s 67108864" {
		t.Fatalf("save: %q", got)
	}
	entries[0].SetText("0")
	findButton(t, content, "Save").OnTapped()
	if got := lastCall(core); got != "SetCacheSettings false 1h30m0s 67108864" {
		t.Fatalf("a wrong value was sent: %q", got)
	}
	if !hasText(overlay(t, w), "1 to 43200 minutes") {
		t.Error("wrong value not explained")
	}
	w.Canvas().Overlays().Top().Hide()
	w.Canvas().Overlays().Remove(w.Canvas().Overlays().Top())

	findButton(t, content, "Clear cache…").OnTapped()
	if got := lastCall(core); got == "ClearCache" {
		t.Fatal("cleared without confirmation")
	}
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if got := lastCall(core); got != "ClearCache" {
		t.Fatalf("after Yes: %q", got)
	}
	if !hasText(overlay(t, w), "Dropped 42 cached answers.") {
		t.Error("clear not reported")
	}
	if !hasText(content, "0 answers, 0 B of 64 MiB") {
		t.Errorf("figures not refreshed after clear: %q", texts(content))
	}
}

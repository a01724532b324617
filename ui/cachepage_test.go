package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"
)

func TestCacheForm(t *testing.T) {
	def := CacheSettings{Enabled: true, TTL: 10 * time.Minute, CountTokensTTL: time.Hour, ModelsTTL: 10 * time.Minute, MaxBytes: 256 << 20}
	if f := cacheForm(def); f != (CacheForm{"10", "60", "10", "256"}) {
		t.Fatalf("cacheForm = %+v", f)
	}
	for _, c := range []struct {
		f    CacheForm
		want CacheSettings
		bad  string
	}{
		{f: CacheForm{"10", "60", "10", "256"}, want: def},
		{f: CacheForm{" 90 ", "0.5", "43200", "1.5"}, want: CacheSettings{Enabled: true, TTL: 90 * time.Minute, CountTokensTTL: 30 * time.Second, ModelsTTL: 30 * 24 * time.Hour, MaxBytes: 3 << 19}},
		{f: CacheForm{"10", "60", "10", "65536"}, want: CacheSettings{Enabled: true, TTL: 10 * time.Minute, CountTokensTTL: time.Hour, ModelsTTL: 10 * time.Minute, MaxBytes: 64 << 30}},
		{f: CacheForm{"0", "60", "10", "256"}, bad: "Messages: keep for (minutes): 1 to 43200 minutes"},
		{f: CacheForm{"10", "ten", "10", "256"}, bad: "Token counts: keep for"},
		{f: CacheForm{"10", "60", "43201", "256"}, bad: "Model list: keep for"},
		{f: CacheForm{"10", "60", "10", "0.5"}, bad: "1 to 65536 MiB"},
		{f: CacheForm{"10", "60", "10", ""}, bad: "1 to 65536 MiB"},
	} {
		s := def
		err := c.f.Apply(&s)
		switch {
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad) || s != def):
			t.Errorf("%+v: %v (settings %+v), want an error naming %q and the settings unchanged", c.f, err, s, c.bad)
		case c.bad == "" && (err != nil || s != c.want):
			t.Errorf("%+v: %+v %v, want %+v", c.f, s, err, c.want)
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
	if len(entries) != 4 || entries[0].Text != "10" || entries[1].Text != "60" || entries[2].Text != "10" || entries[3].Text != "256" {
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
	if got := lastCall(core); got != "SetCacheSettings false 10m0s 1h0m0s 10m0s 268435456" {
		t.Fatalf("switch off: %q", got)
	}
	if !hasText(content, "Off: every request goes to Anthropic.") {
		t.Errorf("state not refreshed: %q", texts(content))
	}

	entries[0].SetText("90")
	entries[2].SetText("1")
	entries[3].SetText("64")
	findButton(t, content, "Save").OnTapped()
	if got := lastCall(core); got != "SetCacheSettings false 1h30m0s 1h0m0s 1m0s 67108864" {
		t.Fatalf("save: %q", got)
	}
	entries[0].SetText("0")
	findButton(t, content, "Save").OnTapped()
	if got := lastCall(core); got != "SetCacheSettings false 1h30m0s 1h0m0s 1m0s 67108864" {
		t.Fatalf("a wrong value was sent: %q", got)
	}
	if !hasText(overlay(t, w), "Messages: keep for (minutes): 1 to 43200 minutes") {
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

package tray

import (
	"strings"
	"sync/atomic"
	"testing"
)

// The status line says when the dedup cache does not answer (issue 10),
// in the user's language, and the menu is rebuilt when that changes.
func TestStatusLineSaysCacheOff(t *testing.T) {
	s := State{Lang: "en", Routes: []Route{{Name: "Direct", Checked: true, Up: true, LatencyMS: 20}}, Choice: "Direct", Current: "Direct"}
	if got := StatusLine(s); strings.Contains(got, "cache") {
		t.Errorf("cache on: %q", got)
	}
	s.CacheOff = true
	if got := StatusLine(s); !strings.HasSuffix(got, " — cache off") {
		t.Errorf("cache off: %q", got)
	}
	s.Lang = "zh-CN"
	if got := StatusLine(s); !strings.HasSuffix(got, " — 缓存已关闭") {
		t.Errorf("zh-CN cache off: %q", got)
	}
	if s.Equal(State{Lang: "zh-CN", Routes: s.Routes, Choice: "Direct", Current: "Direct"}) {
		t.Error("a change of the cache's state leaves the menu as it was")
	}

	core := &fakeCore{}
	var on atomic.Bool
	on.Store(true)
	tr := New(core, &fakeRenderer{}, Options{CacheOn: on.Load})
	if tr.read().CacheOff {
		t.Fatal("cache on read as off")
	}
	on.Store(false)
	if !tr.read().CacheOff {
		t.Fatal("cache off not read")
	}
	if New(core, &fakeRenderer{}, Options{}).read().CacheOff {
		t.Error("without CacheOn the cache reads as off")
	}
}

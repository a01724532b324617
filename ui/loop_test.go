package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// TestEventLoop runs the real event goroutine: the open dashboard
// refreshes when the core says something happened (no polling), a burst
// of events costs about one refresh a second, and Quit ends it all.
func TestEventLoop(t *testing.T) {
	core := newFakeCore()
	a := test.NewTempApp(t)
	quit := make(chan struct{})
	d, err := Run(a, core, Options{Autostart: &memAutostart{}, OnQuit: func(context.Context) error {
		close(quit)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitFetches := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); core.statsCalls.Load() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("dashboard fetched %d times, want %d", core.statsCalls.Load(), n)
			}
		}
	}
	waitFetches(1) // opening it
	// Idle: no event, no fetch (nothing polls).
	time.Sleep(1500 * time.Millisecond)
	idle := core.statsCalls.Load()
	if idle != 1 {
		t.Fatalf("an idle dashboard fetched %d times", idle)
	}

	start := time.Now()
	for range 500 {
		core.bus.Publish(events.Event{Kind: events.RequestFinished})
	}
	waitFetches(2)
	time.Sleep(1500 * time.Millisecond)
	fetches := core.statsCalls.Load() - idle
	elapsed := time.Since(start)
	if max := int64(elapsed/dashRefresh) + 1; fetches > max {
		t.Fatalf("500 events cost %d refreshes in %v: not coalesced (want at most %d)", fetches, elapsed, max)
	}

	d.Quit()
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Quit did not finish")
	}
	select {
	case <-quit:
	default:
		t.Fatal("OnQuit not called")
	}
}

package events

import (
	"testing"
	"time"
)

func TestBusFansOutAndNeverBlocks(t *testing.T) {
	var b Bus
	fast, cancelFast := b.Subscribe(4)
	defer cancelFast()
	slow, cancelSlow := b.Subscribe(1)
	defer cancelSlow()

	for i := 0; i < 3; i++ {
		b.Publish(Event{Kind: StateChanged, Detail: "paused"})
	}
	if got := len(fast); got != 3 {
		t.Fatalf("fast subscriber got %d events, want 3", got)
	}
	if got := len(slow); got != 1 {
		t.Fatalf("slow subscriber got %d events, want 1", got)
	}
	if got := b.Dropped(); got != 2 {
		t.Fatalf("dropped = %d, want 2", got)
	}
	e := <-fast
	if e.Time.IsZero() {
		t.Fatal("Publish did not stamp the time")
	}
}

func TestCancelClosesAndUnsubscribes(t *testing.T) {
	var b Bus
	ch, cancel := b.Subscribe(1)
	cancel()
	cancel() // twice is fine
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after cancel")
	}
	b.Publish(Event{Kind: RouteUp}) // must not panic on a closed channel
}

// TestSpendEventsCarryTheirFigures: a notification in either language is
// built from Attrs, so they survive the wire.
func TestSpendEventsCarryTheirFigures(t *testing.T) {
	e := Event{Kind: BudgetAlert, Time: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), Detail: "daily budget at 80%",
		Attrs: map[string]string{"budget": "daily", "level": "80", "spent": "8.1", "limit": "10"}}
	b, err := Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(string(BudgetAlert), b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != BudgetAlert || got.Detail != e.Detail || len(got.Attrs) != 4 || got.Attrs["spent"] != "8.1" {
		t.Errorf("round trip %+v", got)
	}
}

package limit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestQueueFIFOUnderFanOut: 20 clients at concurrency 4. Never more than
// 4 hold a slot, all get one, and the waiters get theirs in the order
// they came.
func TestQueueFIFOUnderFanOut(t *testing.T) {
	var q Queue
	q.SetLimit(4)
	var inside, most atomic.Int32
	var mu sync.Mutex
	var order []int
	release := make(chan struct{})
	recorded := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(order)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, _, err := q.Acquire(context.Background(), time.Minute)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			<-release
			inside.Add(-1)
			rel()
		}()
		// The next client comes only once this one is in or queued, so
		// arrival order is known.
		for st := q.State(); st.InUse+st.Waiting < i+1 || (i < 4 && recorded() < i+1); st = q.State() {
			time.Sleep(time.Millisecond)
		}
	}
	// One leaves at a time, and the next waits until the one it let in
	// has said so: the order seen is the order of the grants.
	for k := range 20 {
		release <- struct{}{}
		for recorded() < min(20, 5+k) {
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	if m := most.Load(); m > 4 {
		t.Errorf("%d held a slot at once, limit 4", m)
	}
	if len(order) != 20 {
		t.Fatalf("%d of 20 got a slot", len(order))
	}
	for i, c := range order {
		if c != i {
			t.Fatalf("slots went in the order %v, not first in first out", order)
		}
	}
	if st := q.State(); st.InUse != 0 || st.Waiting != 0 {
		t.Errorf("after all: %+v", st)
	}
}

func TestQueueWaitEnds(t *testing.T) {
	var q Queue
	q.SetLimit(1)
	rel, _, err := q.Acquire(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Acquire(context.Background(), 20*time.Millisecond); !errors.Is(err, ErrQueueTimeout) {
		t.Fatalf("full queue: %v, want ErrQueueTimeout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := q.Acquire(ctx, time.Minute); !errors.Is(err, context.Canceled) {
		t.Fatalf("client gone: %v", err)
	}
	if st := q.State(); st.Waiting != 0 || st.InUse != 1 {
		t.Fatalf("a waiter that left is still queued: %+v", st)
	}
	rel()
	rel() // a second release gives nothing back twice
	if st := q.State(); st.InUse != 0 {
		t.Fatalf("in use %d after release", st.InUse)
	}
	// Raising the limit lets waiters in at once.
	q.SetLimit(1)
	rel, _, _ = q.Acquire(context.Background(), time.Second)
	got := make(chan error, 1)
	go func() {
		r, _, err := q.Acquire(context.Background(), time.Minute)
		if r != nil {
			r()
		}
		got <- err
	}()
	for q.State().Waiting == 0 {
		time.Sleep(time.Millisecond)
	}
	q.SetLimit(2)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	rel()
}

func TestBuckets(t *testing.T) {
	var bs buckets
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	c := Config{RPM: 3}
	for i := range 3 {
		if which, _ := bs.admit("k", c, now); which != "" {
			t.Fatalf("request %d refused by %s within the burst", i+1, which)
		}
	}
	which, wait := bs.admit("k", c, now)
	if which != "rpm" || wait != 20*time.Second {
		t.Fatalf("4th: %q wait %v, want rpm 20s (a token every 60/3 s)", which, wait)
	}
	if which, _ := bs.admit("other", c, now); which != "" {
		t.Fatal("another key shares the bucket")
	}
	if which, _ := bs.admit("k", c, now.Add(20*time.Second)); which != "" {
		t.Fatal("not refilled after 20 s")
	}

	// Tokens: a request is admitted while the bucket is not in debt; its
	// usage, known when it ends, is taken afterwards.
	c = Config{ITPM: 1000, OTPM: 100}
	if which, _ := bs.admit("t", c, now); which != "" {
		t.Fatal(which)
	}
	bs.spend("t", c, 1500, 10, now)
	which, wait = bs.admit("t", c, now)
	if which != "itpm" || wait <= 30*time.Second || wait > 31*time.Second {
		t.Fatalf("in debt by 500 of 1000/min: %q %v, want itpm ~30 s", which, wait)
	}
	if which, _ := bs.admit("t", c, now.Add(31*time.Second)); which != "" {
		t.Fatalf("still refused after the debt was paid: %s", which)
	}
}

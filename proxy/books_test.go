package proxy

import (
	"strconv"
	"sync"
	"testing"
)

// TestBooksAccountEachRequestOnce finishes requests from many goroutines
// while batches run: every one is accounted exactly once, and Wait returns
// only when all are.
func TestBooksAccountEachRequestOnce(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:1", nil)
	const n = 2000
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 8 {
				x := &exchange{p: h.p, id: "req-" + strconv.Itoa(g*n+i)}
				x.rec.Path = strconv.Itoa(g*(n/8) + i)
				h.p.books.add(x)
			}
		}()
	}
	wg.Wait()
	h.p.books.Wait()
	seen := map[string]int{}
	for _, r := range h.rec.all() {
		seen[r.Path]++
	}
	if len(seen) != n {
		t.Fatalf("%d requests accounted, want %d", len(seen), n)
	}
	for path, c := range seen {
		if c != 1 {
			t.Fatalf("request %s accounted %d times", path, c)
		}
	}
}

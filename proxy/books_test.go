package proxy

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
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
				h.p.books.begin()
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

// panickyRecorder panics on the record whose path is "boom".
type panickyRecorder struct{ *memRecorder }

func (p panickyRecorder) Record(rec storage.Record) {
	if rec.Path == "boom" {
		panic("recorder exploded")
	}
	p.memRecorder.Record(rec)
}

// A panic in one request's bookkeeping used to kill the process (it runs
// on a timer goroutine); it is logged and the batch goes on.
func TestBooksRecoverFromPanic(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:1", nil)
	rec := newMemRecorder()
	h.p.opts.Recorder = panickyRecorder{rec}
	for i, path := range []string{"a", "boom", "b"} {
		x := &exchange{p: h.p, id: "req-" + strconv.Itoa(i)}
		x.rec.Path = path
		h.p.books.begin()
		h.p.books.add(x)
	}
	h.p.books.Wait()
	if n := len(rec.all()); n != 2 {
		t.Fatalf("%d records after a panic in the batch, want 2", n)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "bookkeeping of a request panicked") || !strings.Contains(logs, "id=req-1") {
		t.Errorf("no warning naming the request:\n%s", logs)
	}
}

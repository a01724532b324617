package proxy

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// bookDelay is how long the bookkeeping of a finished request waits.
const bookDelay = 10 * time.Millisecond

// books runs the bookkeeping of finished requests (the usage parse, the
// record, the event, the log line) in batches, bookDelay after the first of
// a batch finished, instead of the moment each response ends: that moment
// the client reading the response and the next request want the CPU.
// Measured on two cores with the client in its own process: run at once,
// the bookkeeping added 10–30 µs to a request's median; deferred, recording
// on and off are as far apart as two identical targets (README,
// Performance). Records still reach the database within a second, and the
// events the dashboard follows within bookDelay.
type books struct {
	mu      sync.Mutex
	pending []*exchange
	wg      sync.WaitGroup // one per API exchange begun and not yet accounted
}

// begin counts an exchange from its first moment, before any byte of its
// response is written: a client that has read the response and then calls
// Wait (a test, Shutdown) must find it counted. Counting only at add let
// Wait return, and race, while the handler was between its last write and
// add (seen under -race in CI).
func (b *books) begin() { b.wg.Add(1) }

// settle ends the count of an exchange that was never queued (a refusal
// that is not recorded, or a handler that panicked); one that was queued is
// ended by its batch.
func (b *books) settle(x *exchange) {
	if !x.queued {
		b.wg.Done()
	}
}

// add queues x's bookkeeping; the first of a batch schedules the batch.
func (b *books) add(x *exchange) {
	x.queued = true
	b.mu.Lock()
	b.pending = append(b.pending, x)
	first := len(b.pending) == 1
	b.mu.Unlock()
	if first {
		time.AfterFunc(bookDelay, b.run)
	}
}

func (b *books) run() {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, x := range batch {
		b.accountOne(x)
		b.wg.Done()
		// A batch from a busy minute is long: between requests, let the
		// goroutines of the requests in flight have the processor.
		runtime.Gosched()
	}
}

// accountOne runs x's bookkeeping; a panic in it (a meter, a recorder,
// a subscriber) is logged with the request id and the batch goes on: one
// bad record must not stop every later request from being accounted.
func (b *books) accountOne(x *exchange) {
	defer func() {
		if v := recover(); v != nil {
			x.p.log.Warn("bookkeeping of a request panicked; skipped", "id", x.id, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
		}
	}()
	x.account()
}

// Wait returns once every API exchange begun has been accounted or settled.
func (b *books) Wait() { b.wg.Wait() }

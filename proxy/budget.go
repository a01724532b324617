package proxy

import (
	"net/http"
	"sync/atomic"

	"github.com/ferry-gateway/ferry/storage"
)

// maxBufferBudget caps the bytes of request bodies held in memory at once,
// across every request of the process; the budget is the smaller of it and
// a quarter of the machine's RAM (systemRAM, per OS).
const maxBufferBudget = 512 << 20

// budget counts buffered request bytes against a limit. One per process:
// the memory it protects is the process's.
type budget struct {
	limit atomic.Int64
	used  atomic.Int64
}

var bufferBudget = newBudget()

func newBudget() *budget {
	b := &budget{}
	limit := int64(maxBufferBudget)
	if ram := systemRAM(); ram > 0 && ram/4 < limit {
		limit = ram / 4
	}
	b.limit.Store(limit)
	return b
}

// reserve takes n bytes from the budget, or nothing and false when that
// would pass the limit.
func (b *budget) reserve(n int64) bool {
	if n <= 0 {
		return true
	}
	if b.used.Add(n) > b.limit.Load() {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *budget) release(n int64) {
	if n > 0 {
		b.used.Add(-n)
	}
}

// BufferedBytes is how many request body bytes are buffered now, and the
// budget's limit.
func BufferedBytes() (used, limit int64) {
	return bufferBudget.used.Load(), bufferBudget.limit.Load()
}

// overloaded is the answer when the buffer budget is spent. 529 with
// retry-after: 1 is what the SDKs retry.
func overloaded() *Error {
	return &Error{Status: StatusOverloaded, Type: TypeOverloaded, Class: storage.ClassFerry,
		Header:  http.Header{"Retry-After": {"1"}},
		Message: "Ferry is holding as many request bytes as it allows itself; retry shortly"}
}

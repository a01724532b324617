package proxy

import (
	"context"
	"io"
	"sync/atomic"
	"time"
)

// watchdog cancels the upstream request when a phase takes too long: the
// wait for response headers (first byte), then every gap between reads
// (idle). There is deliberately no total deadline.
type watchdog struct {
	cancel context.CancelCauseFunc
	t      *time.Timer
	cause  atomic.Pointer[error]
	idle   atomic.Int64 // the idle clock's period; an event stream's is its own
	// answered is set once the response headers came: from then on only
	// the idle clock runs, even if the upload is still going.
	answered atomic.Bool
}

func newWatchdog(cancel context.CancelCauseFunc, idle time.Duration) *watchdog {
	w := &watchdog{cancel: cancel}
	w.idle.Store(int64(idle))
	return w
}

// arm starts (or restarts) the clock for a phase that must end within d.
func (w *watchdog) arm(d time.Duration, cause error) {
	w.cause.Store(&cause)
	if w.t == nil {
		w.t = time.AfterFunc(d, func() { w.cancel(*w.cause.Load()) })
		return
	}
	w.t.Reset(d)
}

// kick restarts the idle clock after bytes moved.
func (w *watchdog) kick() {
	if w.t != nil {
		w.t.Reset(time.Duration(w.idle.Load()))
	}
}

func (w *watchdog) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}

// watchedBody is a streamed request body on its way upstream: every read
// kicks the idle clock (an upstream that stops reading is as stuck as one
// that stops writing), and its end starts the first-byte clock.
type watchedBody struct {
	*deadlineBody
	wd        *watchdog
	firstByte time.Duration
	ended     bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.deadlineBody.Read(p)
	if err == io.EOF && !b.ended {
		b.ended = true
		if !b.wd.answered.Load() {
			b.wd.arm(b.firstByte, ErrFirstByteTimeout)
		}
	} else if n > 0 {
		b.wd.kick()
	}
	return n, err
}

package limit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Queue lets at most its limit of holders in at once; the rest wait first
// in, first out. The zero value is unlimited. It is safe for concurrent
// use.
type Queue struct {
	mu      sync.Mutex
	limit   int // 0: unlimited
	inUse   int
	waiters []*waiter
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// ErrQueueTimeout: a request waited its whole turn without a slot.
var ErrQueueTimeout = errors.New("no upstream slot within the queue wait")

// SetLimit changes how many may be in at once (0: no limit), letting
// waiters in if it grew.
func (q *Queue) SetLimit(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.limit = max(n, 0)
	q.grantLocked()
}

// grantLocked lets waiters in while there is room. Call with mu held.
func (q *Queue) grantLocked() {
	for len(q.waiters) > 0 && (q.limit == 0 || q.inUse < q.limit) {
		w := q.waiters[0]
		q.waiters = q.waiters[1:]
		w.granted = true
		q.inUse++
		close(w.ready)
	}
}

// Acquire waits for a slot, at most wait and while ctx lives. It returns
// the function that gives the slot back (call it once; later calls do
// nothing) and how long it waited.
func (q *Queue) Acquire(ctx context.Context, wait time.Duration) (release func(), waited time.Duration, err error) {
	q.mu.Lock()
	if len(q.waiters) == 0 && (q.limit == 0 || q.inUse < q.limit) {
		q.inUse++
		q.mu.Unlock()
		return q.releaser(), 0, nil
	}
	w := &waiter{ready: make(chan struct{})}
	q.waiters = append(q.waiters, w)
	q.mu.Unlock()

	start := time.Now()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.ready:
		return q.releaser(), time.Since(start), nil
	case <-t.C:
		err = ErrQueueTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	q.mu.Lock()
	if w.granted {
		// The slot came as the wait ended: take it rather than lose it.
		q.mu.Unlock()
		return q.releaser(), time.Since(start), nil
	}
	for i, o := range q.waiters {
		if o == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			break
		}
	}
	q.mu.Unlock()
	return nil, time.Since(start), err
}

func (q *Queue) releaser() func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			q.inUse--
			q.grantLocked()
			q.mu.Unlock()
		})
	}
}

// QueueState is what the queue holds now.
type QueueState struct {
	Limit   int `json:"limit"`
	InUse   int `json:"in_use"`
	Waiting int `json:"waiting"`
}

// State returns the queue's current occupancy.
func (q *Queue) State() QueueState {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueState{Limit: q.limit, InUse: q.inUse, Waiting: len(q.waiters)}
}

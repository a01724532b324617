// Package events carries what happens in Ferry's core (a request finished, a
// route went up or down, the proxy was paused) to whoever listens: the
// desktop UI, the notifier, the stats. The core publishes and never waits;
// a subscriber that falls behind loses events and the loss is counted.
//
// It knows nothing of the UI, the proxy or storage internals.
package events

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// Kind names an event.
type Kind string

const (
	RequestFinished Kind = "request.finished" // Record is set
	RouteHealth     Kind = "route.health"     // Route, Up, Latency, Detail (last error) set; published on every probe
	RouteDown       Kind = "route.down"       // Route, Detail set; published once when a route goes down
	RouteUp         Kind = "route.up"         // Route, Latency set; published once when a route comes back
	RouteSwitched   Kind = "route.switched"   // Route (new), Detail ("auto" when Auto chose it)
	StateChanged    Kind = "state.changed"    // Detail: "paused" or "running"
	SettingsChanged Kind = "settings.changed" // Detail: the settings key
	ListenFailed    Kind = "listen.failed"    // Detail: the error, with the fix

	// The spend guard's events (issue 12). Detail is an English sentence
	// for logs; Attrs carry the figures for a notification in any language.
	BudgetAlert   Kind = "budget.alert"   // Attrs: budget, level (80, 95, 100), spent, limit, unit, basis, mode, period, resets
	BudgetAllowed Kind = "budget.allowed" // Attrs: until (RFC 3339), by
	LimitHit      Kind = "limit.hit"      // Attrs: limit (rpm, itpm, otpm, concurrency, upstream), key (credential fingerprint), retry_after
	QuotaAlert    Kind = "quota.alert"    // Attrs: account, window (5h, 7d…), level (80, 95, 100 or "reset"), utilization, resets
	BrakeFired    Kind = "brake.fired"    // Attrs: session, reason, repeats, tool
	BrakeReleased Kind = "brake.released" // Attrs: session, until, by

	// FilterRedacted: the secrets list redacted something, published the
	// first time each day (issue 11) for a desktop notification.
	FilterRedacted Kind = "filter.redacted" // Attrs: list, rule (the kind of secret, e.g. github-token), request (Ferry's id), count
)

// Event is one thing that happened. Only the fields its Kind names are set.
type Event struct {
	Kind    Kind
	Time    time.Time
	Record  *storage.Record
	Route   string
	Up      bool
	Latency time.Duration
	Detail  string
	Attrs   map[string]string
}

// Bus fans events out to subscribers without ever blocking the publisher.
// The zero value is ready to use.
type Bus struct {
	mu      sync.Mutex
	subs    map[int]chan Event
	taps    map[int]func(Event)
	next    int
	dropped atomic.Uint64
}

// Subscribe returns a channel that receives events and a cancel function
// that unsubscribes and closes the channel. buf is the channel's capacity;
// events that do not fit are dropped for this subscriber only.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, buf)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[int]chan Event)
	}
	id := b.next
	b.next++
	b.subs[id] = ch
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Tap calls f with every event published from now on, on the publisher's
// goroutine and in publishing order, until the returned cancel is called.
// f must return at once (append to a buffer, nothing more): it runs inside
// Publish. Stream uses it so that it sees every event, in order, and never
// loses one to a full channel.
func (b *Bus) Tap(f func(Event)) (cancel func()) {
	b.mu.Lock()
	if b.taps == nil {
		b.taps = make(map[int]func(Event))
	}
	id := b.next
	b.next++
	b.taps[id] = f
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.taps, id)
		b.mu.Unlock()
	}
}

// Publish sends e to every subscriber that has room. It never blocks.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.taps {
		f(e)
	}
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped.Add(1)
		}
	}
}

// Dropped counts events lost because a subscriber was full.
func (b *Bus) Dropped() uint64 { return b.dropped.Load() }

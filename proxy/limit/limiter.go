package limit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/storage"
)

// Options configure New.
type Options struct {
	Config  Config             // the limits; the zero Config turns every limit off
	Publish func(events.Event) // limit.hit events; nil drops them
	Logger  *slog.Logger       // nil discards
	Now     func() time.Time   // nil: time.Now
}

// Limiter is the rate limits, the queue and the upstream headroom they
// follow. It is safe for concurrent use.
type Limiter struct {
	o       Options
	cfg     atomic.Pointer[Config]
	buckets buckets
	queue   Queue

	headMu   sync.Mutex
	headroom map[string]time.Time // by key fingerprint: when its nearly spent upstream limits reset

	hitMu   sync.Mutex
	lastHit map[string]time.Time // limit+key → last limit.hit event

	refused   [len(limitNames)]atomic.Uint64 // by limitNames index, since start
	waits     atomic.Uint64                  // requests that waited in the queue
	waitTotal atomic.Int64                   // their total wait, ns
}

// limitNames are the local limits, as refusals and limit.hit name them.
var limitNames = [...]string{"rpm", "itpm", "otpm", "concurrency"}

// Refusals returns how many requests each local limit refused since start.
func (l *Limiter) Refusals() map[string]uint64 {
	out := make(map[string]uint64, len(limitNames))
	for i, n := range limitNames {
		out[n] = l.refused[i].Load()
	}
	return out
}

// QueueWaits returns how many requests waited for an upstream slot since
// start, and their total wait.
func (l *Limiter) QueueWaits() (n uint64, total time.Duration) {
	return l.waits.Load(), time.Duration(l.waitTotal.Load())
}

// New returns a limiter with o.Config (checked: an invalid one is an
// error).
func New(o Options) (*Limiter, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Limiter{o: o, headroom: map[string]time.Time{}, lastHit: map[string]time.Time{}}
	if o.Config.QueueWaitSeconds == 0 {
		o.Config.QueueWaitSeconds = int(DefaultQueueWait / time.Second)
	}
	if err := l.Apply(o.Config); err != nil {
		return nil, err
	}
	return l, nil
}

// Config returns the limits in force.
func (l *Limiter) Config() Config { return *l.cfg.Load() }

// Apply replaces the limits (the registry's watchers call it when a
// limit.* knob changes). The buckets start afresh; requests in the queue
// keep their place.
func (l *Limiter) Apply(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	l.buckets.reset()
	l.cfg.Store(&c)
	l.queue.SetLimit(c.Concurrency)
	return nil
}

// Queue returns the concurrency queue.
func (l *Limiter) Queue() *Queue { return &l.queue }

// limited reports whether a request is one the limits count: an upstream
// POST /v1/messages (count_tokens is free, and Claude Code sends bursts of
// it at start-up).
func limited(out *proxy.Outgoing) bool {
	return out.Method == http.MethodPost && (out.Path == "/v1/messages" || out.Path == "/v1/messages/")
}

// RateStage is the local rate limits' place in the pipeline
// (PhaseRateLimit, after the cache: a hit costs no request).
func (l *Limiter) RateStage() proxy.Stage {
	return proxy.Stage{Phase: proxy.PhaseRateLimit, Name: "rate limit", Run: l.rateLimit}
}

// QueueStage is the concurrency queue's place in the pipeline
// (PhaseQueue, last before the attempts).
func (l *Limiter) QueueStage() proxy.Stage {
	return proxy.Stage{Phase: proxy.PhaseQueue, Name: "queue", Run: l.enqueue}
}

func (l *Limiter) rateLimit(ctx context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
	if !limited(out) {
		return nil, nil
	}
	c := l.cfg.Load()
	key := out.KeyFingerprint
	if c.FollowUpstream {
		if err := l.followUpstream(ctx, key, c); err != nil {
			return nil, err
		}
		out.OnResponse(proxy.RespFilter, func(res *proxy.Response) error {
			if res.Upstream != nil {
				l.observe(key, res.Header)
			}
			return nil
		})
	}
	if c.RPM == 0 && c.ITPM == 0 && c.OTPM == 0 {
		return nil, nil
	}
	if which, wait := l.buckets.admit(key, *c, l.o.Now()); which != "" {
		return nil, l.tooMany(which, key, wait, c)
	}
	if c.ITPM > 0 || c.OTPM > 0 {
		out.Annotate(func(rec *storage.Record) {
			if rec.CacheHit {
				return
			}
			t := rec.Tokens
			l.buckets.spend(key, *c, t.Input+t.CacheWrite5m+t.CacheWrite1h, t.Output, l.o.Now())
		})
	}
	return nil, nil
}

// tooMany is the 429 of a local limit, with its retry-after in whole
// seconds (at least 1).
func (l *Limiter) tooMany(which, key string, wait time.Duration, c *Config) *proxy.Error {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	var what string
	switch which {
	case "rpm":
		what = fmt.Sprintf("%d requests per minute", c.RPM)
	case "itpm":
		what = fmt.Sprintf("%d input tokens per minute", c.ITPM)
	case "otpm":
		what = fmt.Sprintf("%d output tokens per minute", c.OTPM)
	}
	l.hit(which, key, secs)
	return &proxy.Error{
		Status: http.StatusTooManyRequests, Type: proxy.TypeRateLimit, Class: storage.ClassFerry,
		Message: fmt.Sprintf("Ferry's local rate limit (%s for this key, limit.%s) is reached; retry in %d s. Change it with `ferry limits set %s N` (0 turns it off).", what, which, secs, which),
		Header:  http.Header{"Retry-After": {strconv.Itoa(secs)}},
	}
}

// hit announces a limit that refused a request, at most once every 10
// seconds per limit and key: a fan-out of agents would otherwise flood the
// event stream.
func (l *Limiter) hit(which, key string, retryAfter int) {
	for i, n := range limitNames {
		if n == which {
			l.refused[i].Add(1)
		}
	}
	now := l.o.Now()
	l.hitMu.Lock()
	id := which + "/" + key
	if t, ok := l.lastHit[id]; ok && now.Sub(t) < 10*time.Second {
		l.hitMu.Unlock()
		return
	}
	if len(l.lastHit) > maxKeys {
		clear(l.lastHit)
	}
	l.lastHit[id] = now
	l.hitMu.Unlock()
	l.o.Logger.Warn("local limit reached", "limit", which, "key", key, "retry_after_s", retryAfter)
	if l.o.Publish != nil {
		l.o.Publish(events.Event{Kind: events.LimitHit, Time: now, Detail: "local limit " + which + " reached",
			Attrs: map[string]string{"limit": which, "key": key, "retry_after": strconv.Itoa(retryAfter)}})
	}
}

// waitKey holds how long a request waited in the queue.
var waitKey = proxy.NewStateKey("limit.queue_wait")

// QueueWait returns how long a request waited for its upstream slot.
func QueueWait(out *proxy.Outgoing) time.Duration {
	if d, ok := out.Value(waitKey).(time.Duration); ok {
		return d
	}
	return 0
}

func (l *Limiter) enqueue(ctx context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
	c := l.cfg.Load()
	if c.Concurrency == 0 || !limited(out) {
		return nil, nil
	}
	release, waited, err := l.queue.Acquire(ctx, c.queueWait())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		l.hit("concurrency", out.KeyFingerprint, QueueRetryAfter)
		return nil, &proxy.Error{
			Status: http.StatusTooManyRequests, Type: proxy.TypeRateLimit, Class: storage.ClassFerry,
			Message: fmt.Sprintf("Ferry's queue is full: %d requests are upstream (limit.concurrency) and this one waited %d s without a turn; retry in %d s.",
				c.Concurrency, int(waited.Seconds()), QueueRetryAfter),
			Header: http.Header{"Retry-After": {strconv.Itoa(QueueRetryAfter)}},
		}
	}
	out.Set(waitKey, waited)
	if waited > 0 {
		l.waits.Add(1)
		l.waitTotal.Add(int64(waited))
	}
	// The slot is held across the request's retries and given back when
	// the response has been relayed (its body closed), or, when no
	// response came, when the request is accounted.
	out.OnResponse(proxy.RespFilter, func(res *proxy.Response) error {
		if res.Body == nil {
			release()
			return nil
		}
		res.Body = &releasingBody{ReadCloser: res.Body, release: release}
		return nil
	})
	out.Annotate(func(rec *storage.Record) {
		rec.QueueWait = waited
		release()
	})
	return nil, nil
}

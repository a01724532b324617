package limit

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket whose burst is its per-minute limit: it holds
// up to limit tokens and refills limit per minute.
type bucket struct {
	tokens float64
	last   time.Time
}

// refill brings b up to now. A new bucket starts full.
func (b *bucket) refill(now time.Time, limit float64) {
	if b.last.IsZero() {
		b.tokens, b.last = limit, now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(limit, b.tokens+d.Minutes()*limit)
		b.last = now
	}
}

// until is how long until b holds at least need tokens.
func (b *bucket) until(need, limit float64) time.Duration {
	if b.tokens >= need {
		return 0
	}
	return time.Duration((need - b.tokens) / limit * float64(time.Minute))
}

// keyBuckets are one credential's buckets.
type keyBuckets struct {
	rpm, itpm, otpm bucket
	used            time.Time
}

// buckets holds every credential's buckets. One lock: its hold is a few
// arithmetic operations.
type buckets struct {
	mu   sync.Mutex
	keys map[string]*keyBuckets
}

// maxKeys bounds the credentials tracked; the least recently used goes.
const maxKeys = 1024

func (bs *buckets) get(key string, now time.Time) *keyBuckets {
	if bs.keys == nil {
		bs.keys = make(map[string]*keyBuckets)
	}
	k := bs.keys[key]
	if k == nil {
		if len(bs.keys) >= maxKeys {
			oldest := ""
			for id, o := range bs.keys {
				if oldest == "" || o.used.Before(bs.keys[oldest].used) {
					oldest = id
				}
			}
			delete(bs.keys, oldest)
		}
		k = &keyBuckets{}
		bs.keys[key] = k
	}
	k.used = now
	return k
}

// admit takes one request from key's rpm bucket, after checking its token
// buckets are not in debt. It returns which limit refused and how long
// until it would admit, or "" when admitted.
func (bs *buckets) admit(key string, c Config, now time.Time) (string, time.Duration) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	k := bs.get(key, now)
	// Token limits first: a refusal there must not spend a request.
	if c.ITPM > 0 {
		k.itpm.refill(now, float64(c.ITPM))
		if k.itpm.tokens <= 0 {
			return "itpm", k.itpm.until(1, float64(c.ITPM))
		}
	}
	if c.OTPM > 0 {
		k.otpm.refill(now, float64(c.OTPM))
		if k.otpm.tokens <= 0 {
			return "otpm", k.otpm.until(1, float64(c.OTPM))
		}
	}
	if c.RPM > 0 {
		k.rpm.refill(now, float64(c.RPM))
		if k.rpm.tokens < 1 {
			return "rpm", k.rpm.until(1, float64(c.RPM))
		}
		k.rpm.tokens--
	}
	return "", 0
}

// spend takes the tokens a finished request used from key's buckets; they
// may go into debt, which later requests wait out.
func (bs *buckets) spend(key string, c Config, in, out int64, now time.Time) {
	if (c.ITPM <= 0 || in <= 0) && (c.OTPM <= 0 || out <= 0) {
		return
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	k := bs.get(key, now)
	if c.ITPM > 0 {
		k.itpm.refill(now, float64(c.ITPM))
		k.itpm.tokens -= float64(in)
	}
	if c.OTPM > 0 {
		k.otpm.refill(now, float64(c.OTPM))
		k.otpm.tokens -= float64(out)
	}
}

// reset forgets every bucket (the limits changed).
func (bs *buckets) reset() {
	bs.mu.Lock()
	bs.keys = nil
	bs.mu.Unlock()
}

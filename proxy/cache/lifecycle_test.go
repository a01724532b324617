package cache_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// TestTTLExpiry: each endpoint's answer is served until its TTL
// (cache.ttl, cache.count_tokens_ttl, cache.models_ttl) and not after it;
// the age header counts from when it was stored.
func TestTTLExpiry(t *testing.T) {
	cases := []struct {
		name string
		q    req
		ttl  time.Duration
	}{
		{"message", req{body: msgBody}, 7 * time.Minute},
		{"stream", req{body: streamBody}, 7 * time.Minute},
		{"count_tokens", req{path: "/v1/messages/count_tokens", body: countBody}, 50 * time.Minute},
		{"models", req{method: "GET", path: "/v1/models"}, 3 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			// TTLs apart from one another, so a case expiring under
			// another endpoint's TTL would fail.
			r := newRig(t, withClock(clk), withConfig(func(c *cache.Config) {
				c.TTL, c.CountTokensTTL, c.ModelsTTL = 7*time.Minute, 50*time.Minute, 3*time.Minute
			}))
			if g := r.do(tc.q); g.header.Get(cache.HeaderCache) != "miss" {
				t.Fatalf("first: %q", g.header.Get(cache.HeaderCache))
			}
			r.settle()
			clk.Add(tc.ttl - time.Second)
			g := r.do(tc.q)
			if g.header.Get(cache.HeaderCache) != "hit" {
				t.Fatalf("a second before the TTL: %q, want hit", g.header.Get(cache.HeaderCache))
			}
			if age := g.header.Get(cache.HeaderCacheAge); age != strconv.Itoa(int((tc.ttl-time.Second)/time.Second)) {
				t.Errorf("age %q after %v", age, tc.ttl-time.Second)
			}
			clk.Add(time.Second)
			if g := r.do(tc.q); g.header.Get(cache.HeaderCache) != "miss" {
				t.Fatalf("at the TTL: %q, want miss", g.header.Get(cache.HeaderCache))
			}
			if n := r.upstreamCalls(); n != 2 {
				t.Fatalf("%d upstream calls, want 2", n)
			}
			// The fresh answer is stored anew.
			r.settle()
			if g := r.do(tc.q); g.header.Get(cache.HeaderCache) != "hit" {
				t.Fatalf("after the refill: %q, want hit", g.header.Get(cache.HeaderCache))
			}
		})
	}
}

// messageNo is a distinct message request.
func messageNo(n int) req {
	return req{body: fmt.Sprintf(`{"model":"claude-sonnet-4-5","max_tokens":%d,"messages":[{"role":"user","content":"hello"}]}`, 100+n)}
}

// TestLRUEvictionAtTheCap: past cache.max_bytes the least recently used
// answer goes, not the oldest: a hit keeps an entry.
func TestLRUEvictionAtTheCap(t *testing.T) {
	r := newRig(t)
	a, b, c := messageNo(1), messageNo(2), messageNo(3)
	r.do(a)
	r.settle()
	one := r.store.Stats().Bytes
	if one <= 0 {
		t.Fatalf("stored %d bytes", one)
	}
	// Room for two answers and a half: the third evicts one.
	r.store.SetLimits(one*5/2, 0)
	r.do(b)
	r.settle()
	if g := r.do(a); g.header.Get(cache.HeaderCache) != "hit" { // a is now more recent than b
		t.Fatalf("a: %q", g.header.Get(cache.HeaderCache))
	}
	r.do(c)
	r.settle()
	st := r.store.Stats()
	if st.Entries != 2 || st.Evicted != 1 || st.Bytes > one*5/2 {
		t.Fatalf("after the third: %+v", st)
	}
	// b last: its miss stores it again, evicting another.
	for _, want := range []struct {
		name string
		q    req
		tag  string
	}{{"a (used)", a, "hit"}, {"c (new)", c, "hit"}, {"b (least recently used)", b, "miss"}} {
		if g := r.do(want.q); g.header.Get(cache.HeaderCache) != want.tag {
			t.Errorf("%s: %q, want %s", want.name, g.header.Get(cache.HeaderCache), want.tag)
		}
	}
}

// TestEntryCap: an answer larger than cache.max_entry_bytes is relayed
// whole and not stored.
func TestEntryCap(t *testing.T) {
	r := newRig(t, withConfig(func(c *cache.Config) { c.MaxEntryBytes = 16 << 10 }))
	q := req{body: streamBody, header: map[string]string{testsupport.ScenarioHeader: "large;frames=1000"}}
	first := r.do(q)
	if len(first.body) <= 16<<10 || !bytes.Contains(first.body, []byte("event: message_stop")) {
		t.Fatalf("first: %d bytes", len(first.body))
	}
	r.settle()
	if g := r.do(q); g.header.Get(cache.HeaderCache) != "miss" || !bytes.Equal(g.body, first.body) {
		t.Fatalf("second: %q, %d bytes", g.header.Get(cache.HeaderCache), len(g.body))
	}
	if st := r.store.Stats(); st.Entries != 0 {
		t.Fatalf("stored %+v", st)
	}
}

// TestHitAfterRestart: cache.db keeps answers across a restart (a new
// store, cache and proxy on the same file, before a fresh upstream that
// never sees the request), byte for byte, and the LRU order too: the
// last-use times written at Close, not the times stored, decide what goes
// first afterwards.
func TestHitAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), storage.CacheFileName)
	stream := req{body: streamBody, header: map[string]string{testsupport.ScenarioHeader: testsupport.ScenarioToolUse}}
	a, b := messageNo(1), messageNo(2)
	var firstStream, firstA []byte
	var one int64
	t.Run("before", func(t *testing.T) {
		r := newRig(t, withPath(path))
		firstStream = r.do(stream).body
		firstA = r.do(a).body
		r.settle()
		before := r.store.Stats().Bytes
		r.do(b)
		r.settle()
		one = r.store.Stats().Bytes - before
		r.do(a) // a used after b
		// The rig's cleanup closes the store: the last-use times go to disk.
	})
	r := newRig(t, withPath(path))
	g := r.do(stream)
	if g.header.Get(cache.HeaderCache) != "hit" || !bytes.Equal(g.body, firstStream) {
		t.Fatalf("stream after restart: %q, equal=%v", g.header.Get(cache.HeaderCache), bytes.Equal(g.body, firstStream))
	}
	if n := r.upstreamCalls(); n != 0 {
		t.Fatalf("%d upstream calls after the restart, want 0", n)
	}
	// Three entries; room for three and a half: a fourth evicts the least
	// recently used. By the times stored that would be a; by the last use
	// written at Close it is b.
	st := r.store.Stats()
	if st.Entries != 3 {
		t.Fatalf("after restart: %+v", st)
	}
	r.store.SetLimits(st.Bytes+one/2, 0)
	r.do(messageNo(3))
	r.settle()
	if g := r.do(a); g.header.Get(cache.HeaderCache) != "hit" || !bytes.Equal(g.body, firstA) {
		t.Errorf("a: %q, want hit (used last before the restart)", g.header.Get(cache.HeaderCache))
	}
	if g := r.do(b); g.header.Get(cache.HeaderCache) != "miss" {
		t.Errorf("b: %q, want miss (evicted)", g.header.Get(cache.HeaderCache))
	}
}

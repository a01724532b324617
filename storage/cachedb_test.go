package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// cacheClock is a settable clock for expiry.
type cacheClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *cacheClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *cacheClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTestCache(t *testing.T, path string, o CacheOptions) *CacheDB {
	t.Helper()
	o.NoSync = true
	c := OpenCache(path, o)
	if err := c.Err(); err != nil {
		t.Fatalf("open cache: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func entry(key string, now time.Time, ttl time.Duration, body string) CacheEntry {
	return CacheEntry{Key: key, Cred: "cred-a", Stored: now, Expires: now.Add(ttl), Head: []byte("head:" + key), Body: []byte(body)}
}

func mustGet(t *testing.T, c *CacheDB, key string) CacheEntry {
	t.Helper()
	e, ok := c.Get(key)
	if !ok {
		t.Fatalf("Get(%q) missed", key)
	}
	return e
}

func TestCacheRoundTripAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", CacheFileName)
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, path, CacheOptions{Now: clock.Now})
	want := entry("k1", clock.Now(), time.Hour, strings.Repeat("event: ping\ndata: {}\n\n", 100))
	if !c.Put(want) {
		t.Fatal("put dropped")
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, c, "k1")
	if got.Cred != want.Cred || !bytes.Equal(got.Head, want.Head) || !bytes.Equal(got.Body, want.Body) ||
		!got.Stored.Equal(want.Stored) || !got.Expires.Equal(want.Expires) {
		t.Fatalf("got %+v", got)
	}
	if _, ok := c.Get("other"); ok {
		t.Fatal("hit on a key never stored")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache.db mode %v, want 0600", fi.Mode().Perm())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openTestCache(t, path, CacheOptions{Now: clock.Now})
	if got := mustGet(t, c2, "k1"); !bytes.Equal(got.Body, want.Body) {
		t.Fatal("body changed across a restart")
	}
	if s := c2.Stats(); s.Entries != 1 || s.Bytes <= int64(len(want.Body)) {
		t.Fatalf("stats after restart: %+v", s)
	}
}

func TestCacheExpiry(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, filepath.Join(t.TempDir(), CacheFileName), CacheOptions{Now: clock.Now, SweepInterval: 5 * time.Millisecond})
	c.Put(entry("short", clock.Now(), time.Minute, "a"))
	c.Put(entry("long", clock.Now(), time.Hour, "b"))
	c.Flush()
	mustGet(t, c, "short")
	clock.Add(time.Minute)
	if _, ok := c.Get("short"); ok {
		t.Fatal("expired entry served")
	}
	mustGet(t, c, "long")
	// The sweep deletes it from the file too.
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Entries != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("expired entry never swept: %+v", c.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCacheLRUEviction(t *testing.T) {
	path := filepath.Join(t.TempDir(), CacheFileName)
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	body := strings.Repeat("x", 1000)
	size := (&CacheEntry{Key: "a", Cred: "cred-a", Head: []byte("head:a"), Body: []byte(body)}).size()
	c := openTestCache(t, path, CacheOptions{Now: clock.Now, MaxBytes: 3 * size})
	for _, k := range []string{"a", "b", "c"} {
		c.Put(entry(k, clock.Now(), time.Hour, body))
		c.Flush()
		clock.Add(time.Second)
	}
	mustGet(t, c, "a") // a is now the most recent; b the least
	clock.Add(time.Second)
	c.Put(entry("d", clock.Now(), time.Hour, body))
	c.Flush()
	if _, ok := c.Get("b"); ok {
		t.Fatal("least recently used entry kept past the cap")
	}
	for _, k := range []string{"a", "c", "d"} {
		mustGet(t, c, k)
	}
	if s := c.Stats(); s.Bytes > s.MaxBytes || s.Evicted != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Recency survives a restart: after it, c is the least recent (a and d
	// were hit after it).
	clock.Add(time.Second)
	mustGet(t, c, "d")
	mustGet(t, c, "a")
	c.Close()
	c2 := openTestCache(t, path, CacheOptions{Now: clock.Now, MaxBytes: 3 * size})
	c2.Put(entry("e", clock.Now(), time.Hour, body))
	c2.Flush()
	if _, ok := c2.Get("c"); ok {
		t.Fatal("recency lost across a restart: c kept")
	}
	mustGet(t, c2, "a")
}

func TestCacheEntryCap(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, filepath.Join(t.TempDir(), CacheFileName), CacheOptions{Now: clock.Now, MaxEntryBytes: 2000})
	if c.Put(entry("big", clock.Now(), time.Hour, strings.Repeat("x", 3000))) {
		t.Fatal("entry over max_entry_bytes accepted")
	}
	if !c.Put(entry("small", clock.Now(), time.Hour, "x")) {
		t.Fatal("small entry refused")
	}
	c.Flush()
	if s := c.Stats(); s.Entries != 1 || s.Dropped != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCacheClearCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), CacheFileName)
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, path, CacheOptions{Now: clock.Now})
	secret := "a-prompt-answer-that-must-not-linger"
	for i := range 200 {
		c.Put(entry(fmt.Sprintf("old%d", i), clock.Now(), 24*time.Hour, secret+strings.Repeat("x", 20_000)))
		if i%32 == 0 {
			c.Flush() // the queue holds 64: a burst past it is dropped, by design
		}
	}
	c.Flush()
	clock.Add(2 * time.Hour)
	c.Put(entry("new", clock.Now(), 24*time.Hour, "fresh"))
	c.Flush()
	before := c.Stats().FileBytes
	n, err := c.Clear(time.Hour)
	if err != nil || n != 200 {
		t.Fatalf("clear older than 1h: n=%d err=%v", n, err)
	}
	mustGet(t, c, "new")
	if _, ok := c.Get("old1"); ok {
		t.Fatal("old entry survived clear")
	}
	after := c.Stats().FileBytes
	if after*4 > before {
		t.Fatalf("file not compacted: %d bytes before, %d after", before, after)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("cleared answer still in the file's free pages")
	}
	if n, err := c.Clear(0); err != nil || n != 1 {
		t.Fatalf("clear all: n=%d err=%v", n, err)
	}
	if s := c.Stats(); s.Entries != 0 {
		t.Fatalf("entries after clear all: %+v", s)
	}
	c.Put(entry("again", clock.Now(), time.Hour, "x"))
	c.Flush()
	mustGet(t, c, "again")
}

func TestCacheDropCredential(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, filepath.Join(t.TempDir(), CacheFileName), CacheOptions{Now: clock.Now})
	a := entry("ka", clock.Now(), time.Hour, "x")
	b := entry("kb", clock.Now(), time.Hour, "y")
	b.Cred = "cred-b"
	c.Put(a)
	c.Put(b)
	c.Flush()
	if n, err := c.DropCredential("cred-a"); err != nil || n != 1 {
		t.Fatalf("drop: n=%d err=%v", n, err)
	}
	if _, ok := c.Get("ka"); ok {
		t.Fatal("dropped credential's entry served")
	}
	mustGet(t, c, "kb")
}

// A write failure turns the store off (misses, dropped puts) and never
// panics or blocks; clearing recreates the file and turns it back on.
func TestCacheFailureTurnsOff(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, filepath.Join(t.TempDir(), CacheFileName), CacheOptions{Now: clock.Now})
	c.Put(entry("k", clock.Now(), time.Hour, "x"))
	c.Flush()
	c.dbMu.RLock()
	c.bolt.Close() // every write now fails, as on a dead disk
	c.dbMu.RUnlock()
	c.Put(entry("k2", clock.Now(), time.Hour, "y"))
	c.Flush()
	if c.Err() == nil {
		t.Fatal("store still on after a failed write")
	}
	if _, ok := c.Get("k"); ok {
		t.Fatal("off store served a hit")
	}
	if c.Put(entry("k3", clock.Now(), time.Hour, "z")) {
		t.Fatal("off store accepted a put")
	}
	if s := c.Stats(); s.Off == "" {
		t.Fatalf("stats don't say why: %+v", s)
	}
	if _, err := c.Clear(0); err != nil || c.Err() != nil {
		t.Fatalf("clear didn't revive: %v / %v", err, c.Err())
	}
	c.Put(entry("k4", clock.Now(), time.Hour, "w"))
	c.Flush()
	mustGet(t, c, "k4")
}

// Deleting cache.db is always safe: while running (the open file lives on
// unlinked) and before a start (a new one is made); a damaged file is
// replaced.
func TestCacheFileDeletedOrDamaged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CacheFileName)
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, path, CacheOptions{Now: clock.Now})
	c.Put(entry("k", clock.Now(), time.Hour, "x"))
	c.Flush()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	c.Put(entry("k2", clock.Now(), time.Hour, "y"))
	c.Flush()
	mustGet(t, c, "k2")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openTestCache(t, path, CacheOptions{Now: clock.Now})
	if s := c2.Stats(); s.Entries != 0 {
		t.Fatalf("entries in a new file: %+v", s)
	}
	c2.Close()

	if err := os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	c3 := openTestCache(t, path, CacheOptions{Now: clock.Now})
	c3.Put(entry("k3", clock.Now(), time.Hour, "z"))
	c3.Flush()
	mustGet(t, c3, "k3")
}

// Answers stored one after another share a transaction (and its
// fdatasync): written one by one they cost 29 % of Ferry's CPU under the
// benchmark's load. Until written they are served from memory, and Close
// writes them.
func TestCachePutsShareACommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), CacheFileName)
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, path, CacheOptions{Now: clock.Now, PutDelay: time.Hour})
	for i := range 40 {
		if !c.Put(entry(fmt.Sprint("k", i), clock.Now(), time.Hour, "body")) {
			t.Fatalf("put %d dropped", i)
		}
	}
	for i := range 40 {
		mustGet(t, c, fmt.Sprint("k", i)) // from memory: nothing is written yet
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := c.batches.Load(); n != 1 {
		t.Fatalf("40 puts written in %d transactions, want 1", n)
	}
	taken := 40
	for i := range 100 { // past maxPutBatch: a full batch does not wait
		if c.Put(entry(fmt.Sprint("m", i), clock.Now(), time.Hour, "body")) {
			taken++ // past the queue a put is dropped, never waited for
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := c.batches.Load(); n > 1+3 {
		t.Fatalf("100 more puts in %d transactions", n-1)
	}
	c2 := openTestCache(t, path, CacheOptions{Now: clock.Now})
	if s := c2.Stats(); s.Entries != taken || taken < 40+64 {
		t.Fatalf("%d entries after Close and reopen, %d puts taken", s.Entries, taken)
	}
}

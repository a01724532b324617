package storage

import (
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The dedup cache's own file, cache.db, beside ferry.db. It is apart so a
// cache failure (a full disk, a write error, a damaged file) never touches
// the usage history, and so deleting it is always safe: it holds nothing
// that is not disposable.
//
//	v1/                  root bucket
//	├── version          be64(cacheVersion); another version: the file is emptied
//	├── entries/         request key → entry (cachecodec.go)
//	└── recency/         request key → be64(Unix ns of the last hit), written lazily
//
// An entry's last use lives in memory (an LRU list) and reaches recency/
// only every CacheOptions.RecencyInterval and on Close, never as a write per
// hit; after a crash the LRU order is at worst that old.

var (
	bucketEntries = []byte("entries")
	bucketRecency = []byte("recency")
)

const cacheVersion = 1

// CacheFileName is the cache's file name in Ferry's data directory.
const CacheFileName = "cache.db"

// Defaults of CacheOptions.
const (
	DefaultCacheMaxBytes      = 256 << 20
	DefaultCacheMaxEntryBytes = 8 << 20
)

// CacheOptions configure OpenCache. Zero values take the defaults.
type CacheOptions struct {
	// MaxBytes bounds the stored entries' bytes; past it the least recently
	// used are evicted. 0 means DefaultCacheMaxBytes. bbolt's pages and
	// free list make the file somewhat larger.
	MaxBytes int64
	// MaxEntryBytes is the largest entry stored. 0 means
	// DefaultCacheMaxEntryBytes.
	MaxEntryBytes int64
	// QueueSize bounds the entries waiting to be written; past it Put drops
	// rather than block a request. 0 means 64.
	QueueSize int
	// RecencyInterval is how often the last-use times of hit entries are
	// written. 0 means one minute.
	RecencyInterval time.Duration
	// SweepInterval is how often expired entries are deleted. 0 means one
	// minute; an expired entry is never served in between.
	SweepInterval time.Duration
	// PutDelay is how long the first of a batch of puts waits for more
	// before they are written in one transaction. 0 means 200 ms.
	// Written at once, every answer cost a commit and its fdatasync: in a
	// CPU profile of scripts/bench.sh that was 29 % of Ferry's CPU, on a
	// 2-core machine where the client wants the other core. A put is served
	// from memory (pending) until it is written; a crash loses at most the
	// last PutDelay of answers, which a cache can afford.
	PutDelay time.Duration
	// NoSync skips fsync on commit (tests, benchmarks).
	NoSync bool
	// Logger receives the reason the cache turned itself off. nil discards.
	Logger *slog.Logger
	// Now is the clock of expiry and recency. nil means time.Now.
	Now func() time.Time
}

// CacheEntry is one stored answer.
type CacheEntry struct {
	Key string // the canonical request key
	// Cred tags the credential the answer was given to (a prefix of its
	// HMAC), so a key's entries can be dropped when the key is cleared.
	Cred    string
	Stored  time.Time
	Expires time.Time
	// Head is the caller's encoding of the response head (status, headers,
	// what the answer cost); opaque here.
	Head []byte
	Body []byte
}

func (e *CacheEntry) size() int64 {
	return int64(len(e.Key) + len(e.Cred) + len(e.Head) + len(e.Body) + 32)
}

// CacheStats is a snapshot of the store.
type CacheStats struct {
	Path          string `json:"path"`
	Entries       int    `json:"entries"`
	Bytes         int64  `json:"bytes"`      // stored entries
	FileBytes     int64  `json:"file_bytes"` // cache.db on disk
	MaxBytes      int64  `json:"max_bytes"`
	MaxEntryBytes int64  `json:"max_entry_bytes"`
	Dropped       uint64 `json:"dropped"`       // puts refused: queue full or too large
	Evicted       uint64 `json:"evicted"`       // removed by the size cap
	Off           string `json:"off,omitempty"` // why the store turned itself off
}

// ErrCacheOff: the cache store is off (see CacheDB.Err for why).
var ErrCacheOff = errors.New("cache store is off")

// CacheDB is the dedup cache's bbolt store. Reads run on the caller's
// goroutine; every write goes through one writer goroutine that batches
// them, so a request never waits for a commit. It is safe for concurrent
// use. A failure turns it off (Err says why) rather than failing anything:
// Get then misses and Put drops, until Clear recreates the file.
type CacheDB struct {
	path string
	o    CacheOptions
	log  *slog.Logger

	maxBytes, maxEntry atomic.Int64

	dbMu sync.RWMutex // guards bolt against the writer's swaps (clear, compact)
	bolt *bolt.DB     // nil while off

	mu    sync.Mutex // guards the index and pending
	index map[string]*list.Element
	lru   list.List // of *cacheItem, most recent first
	bytes int64
	// pending are the entries put and not yet written: Get serves them,
	// so a duplicate arriving during the commit (an fsync) hits.
	pending map[string]*CacheEntry

	off     atomic.Pointer[string]
	dropped atomic.Uint64
	evicted atomic.Uint64
	batches atomic.Uint64 // transactions that wrote puts (group commit test)

	ops       chan cacheOp
	closeOnce sync.Once
	done      chan struct{}
}

type cacheItem struct {
	key, cred       string
	size            int64
	stored, expires int64 // Unix ns
	used            int64 // Unix ns of the last hit
	dirty           bool  // used not yet written to recency/
}

// OpenCache opens (creating it if needed, 0600) the cache file at path and
// starts its writer. It never fails: a file that can't be opened is
// recreated once, and if that fails too the store is off with the reason
// logged and in Err. Close it to stop the writer.
func OpenCache(path string, o CacheOptions) *CacheDB {
	if o.QueueSize <= 0 {
		o.QueueSize = 64
	}
	if o.RecencyInterval <= 0 {
		o.RecencyInterval = time.Minute
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	if o.PutDelay <= 0 {
		o.PutDelay = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &CacheDB{path: path, o: o, log: o.Logger, ops: make(chan cacheOp, o.QueueSize), done: make(chan struct{})}
	c.SetLimits(o.MaxBytes, o.MaxEntryBytes)
	c.resetIndex()
	if err := c.open(); err != nil {
		c.turnOff(err)
	}
	go c.run()
	return c
}

// SetLimits changes the size cap and the largest entry (0 keeps the
// default); a lower cap evicts at the next write.
func (c *CacheDB) SetLimits(maxBytes, maxEntryBytes int64) {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheMaxBytes
	}
	if maxEntryBytes <= 0 {
		maxEntryBytes = DefaultCacheMaxEntryBytes
	}
	c.maxBytes.Store(maxBytes)
	c.maxEntry.Store(maxEntryBytes)
}

// MaxEntryBytes is the largest entry Put accepts.
func (c *CacheDB) MaxEntryBytes() int64 { return c.maxEntry.Load() }

// Err is why the store is off, nil while it works.
func (c *CacheDB) Err() error {
	if r := c.off.Load(); r != nil {
		return fmt.Errorf("%w: %s", ErrCacheOff, *r)
	}
	return nil
}

func (c *CacheDB) turnOff(err error) {
	reason := err.Error()
	c.off.Store(&reason)
	c.log.Error("dedup cache off; requests go upstream as if it were disabled", "reason", reason, "file", c.path)
}

// open opens the file and loads the index; it runs before the writer
// starts or on the writer's goroutine with dbMu held.
func (c *CacheDB) open() error {
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return fmt.Errorf("create directory for %s: %w", c.path, err)
	}
	db, err := c.openFile()
	if err != nil && !errors.Is(err, berrors.ErrTimeout) {
		// Damaged or not a bbolt file: the cache is disposable.
		c.log.Warn("dedup cache file unreadable; starting a new one", "file", c.path, "error", err)
		if rmErr := os.Remove(c.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			return fmt.Errorf("remove unreadable %s: %w", c.path, rmErr)
		}
		db, err = c.openFile()
	}
	if err != nil {
		return err
	}
	if err := c.load(db); err != nil {
		db.Close()
		return err
	}
	c.bolt = db
	c.off.Store(nil)
	return nil
}

func (c *CacheDB) openFile() (*bolt.DB, error) {
	db, err := bolt.Open(c.path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: c.o.NoSync, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", c.path, err)
	}
	if err := os.Chmod(c.path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("restrict permissions of %s: %w", c.path, err)
	}
	return db, nil
}

// load creates the layout (emptying a file of another version) and reads
// every entry's head into the index.
func (c *CacheDB) load(db *bolt.DB) error {
	c.resetIndex()
	var items []*cacheItem
	err := db.Update(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		if r != nil {
			if v := r.Get(keyVersion); len(v) != 8 || binary.BigEndian.Uint64(v) != cacheVersion {
				if err := tx.DeleteBucket(bucketRoot); err != nil {
					return err
				}
				r = nil
			}
		}
		if r == nil {
			var err error
			if r, err = tx.CreateBucket(bucketRoot); err != nil {
				return err
			}
			if err := r.Put(keyVersion, be64(cacheVersion)); err != nil {
				return err
			}
		}
		ents, err := r.CreateBucketIfNotExists(bucketEntries)
		if err != nil {
			return err
		}
		rec, err := r.CreateBucketIfNotExists(bucketRecency)
		if err != nil {
			return err
		}
		return ents.ForEach(func(k, v []byte) error {
			it, err := decodeCacheItem(k, v)
			if err != nil {
				return fmt.Errorf("entry %x: %w", k, err)
			}
			it.used = it.stored
			if u := rec.Get(k); len(u) == 8 {
				it.used = int64(binary.BigEndian.Uint64(u))
			}
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load %s: %w", c.path, err)
	}
	// Oldest use at the back of the LRU list.
	sortItemsByUse(items)
	c.mu.Lock()
	for _, it := range items {
		c.index[it.key] = c.lru.PushBack(it)
		c.bytes += it.size
	}
	c.mu.Unlock()
	return nil
}

func (c *CacheDB) resetIndex() {
	c.mu.Lock()
	c.index = make(map[string]*list.Element)
	c.pending = make(map[string]*CacheEntry)
	c.lru.Init()
	c.bytes = 0
	c.mu.Unlock()
}

// Get returns the live entry stored under key. ok is false for none, for
// an expired one, and while the store is off. A hit moves the entry to
// the front of the LRU order, in memory only. The entry's Head and Body
// may be shared with other callers: never modify them.
func (c *CacheDB) Get(key string) (e CacheEntry, ok bool) {
	if c.off.Load() != nil {
		return e, false
	}
	now := c.o.Now().UnixNano()
	c.mu.Lock()
	if p := c.pending[key]; p != nil && now < p.Expires.UnixNano() {
		c.mu.Unlock()
		return *p, true
	}
	el := c.index[key]
	if el == nil || now >= el.Value.(*cacheItem).expires {
		c.mu.Unlock()
		return e, false
	}
	it := el.Value.(*cacheItem)
	it.used, it.dirty = now, true
	c.lru.MoveToFront(el)
	c.mu.Unlock()

	c.dbMu.RLock()
	defer c.dbMu.RUnlock()
	if c.bolt == nil {
		return e, false
	}
	err := c.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRoot).Bucket(bucketEntries).Get([]byte(key))
		if v == nil {
			return errNoEntry
		}
		var err error
		e, err = decodeCacheEntry([]byte(key), v)
		return err
	})
	return e, err == nil
}

var errNoEntry = errors.New("no entry")

// Put stores e without waiting for the write. It reports false when the
// entry was dropped: too large, the writer's queue full, or the store off.
func (c *CacheDB) Put(e CacheEntry) bool {
	if c.off.Load() != nil {
		return false
	}
	if e.size() > c.maxEntry.Load() {
		c.dropped.Add(1)
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case c.ops <- cacheOp{put: &e}:
		c.pending[e.Key] = &e
		return true
	default:
		c.dropped.Add(1)
		return false
	}
}

// Stats returns a snapshot of the store.
func (c *CacheDB) Stats() CacheStats {
	s := CacheStats{Path: c.path, MaxBytes: c.maxBytes.Load(), MaxEntryBytes: c.maxEntry.Load(),
		Dropped: c.dropped.Load(), Evicted: c.evicted.Load()}
	c.mu.Lock()
	s.Entries, s.Bytes = len(c.index), c.bytes
	for k, e := range c.pending { // put, not yet written
		if c.index[k] == nil {
			s.Entries++
			s.Bytes += e.size()
		}
	}
	c.mu.Unlock()
	if fi, err := os.Stat(c.path); err == nil {
		s.FileBytes = fi.Size()
	}
	if r := c.off.Load(); r != nil {
		s.Off = *r
	}
	return s
}

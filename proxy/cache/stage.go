package cache

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/storage"
)

// Store keeps the cache's entries: storage.CacheDB (the bbolt file
// cache.db) implements it; a shared store (Redis) can later. A store
// never fails a request: when it breaks it turns itself off (Err) and
// misses.
type Store interface {
	// Get returns the live entry under key; its bytes must not be changed.
	Get(key string) (storage.CacheEntry, bool)
	// Put stores e without waiting; false when it was dropped.
	Put(e storage.CacheEntry) bool
	// MaxEntryBytes is the largest entry Put takes.
	MaxEntryBytes() int64
	// Err is why the store is off, nil while it works.
	Err() error
}

// Options configure New.
type Options struct {
	// Store keeps the entries. Nil means the cache is off.
	Store Store
	// CredTag tags a credential (from a per-install HMAC of it), so a
	// key's entries can be dropped when the key is cleared. Nil means
	// entries are untagged.
	CredTag func(credential string) string
	// Config is the initial configuration; SetConfig changes it live.
	Config Config
	// Logger receives entries that could not be replayed. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock of ages and expiry. Nil means time.Now.
	Now func() time.Time
}

// Cache is the dedup cache stage. It is safe for concurrent use.
type Cache struct {
	store   Store
	credFn  func(string) string
	cfg     atomic.Pointer[Config]
	log     *slog.Logger
	now     func() time.Time
	fmu     sync.Mutex
	flights map[string]*flight
}

// New returns the cache stage's state; Stage plugs it into the pipeline.
func New(o Options) *Cache {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cache{store: o.Store, credFn: o.CredTag, log: o.Logger, now: o.Now, flights: map[string]*flight{}}
	c.SetConfig(o.Config)
	return c
}

// SetConfig changes the configuration; requests already past the stage
// keep the one they saw.
func (c *Cache) SetConfig(cfg Config) { c.cfg.Store(&cfg) }

func (c *Cache) config() Config { return *c.cfg.Load() }

func (c *Cache) credTag(out *proxy.Outgoing) string {
	if c.credFn == nil {
		return ""
	}
	return c.credFn(out.Credential())
}

// Stage is the pipeline stage (proxy.PhaseCache).
func (c *Cache) Stage() proxy.Stage {
	return proxy.Stage{Phase: proxy.PhaseCache, Name: "dedup cache", Run: c.run}
}

// On returns whether the cache answers requests now: enabled, and a
// store that works. The tray says when it is not.
func (c *Cache) On() bool {
	return c.config().Enabled && c.store != nil && c.store.Err() == nil
}

func (c *Cache) run(ctx context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
	k := kindOf(out.Method, out.Path)
	if k == kindNone {
		return nil, nil
	}
	if !c.On() || out.Key == "" || out.Streamed {
		out.OnResponse(proxy.RespCacheFill, tag("off"))
		return nil, nil
	}
	bypass, noStore := directives(out)
	if bypass {
		out.OnResponse(proxy.RespCacheFill, func(res *proxy.Response) error {
			res.Header.Set(HeaderCache, "bypass")
			if !noStore {
				c.teeFill(out, k, res)
			}
			return nil
		})
		return nil, nil
	}
	if res := c.lookup(out); res != nil {
		return res, nil
	}
	f, m := c.join(ctx, out, k, true)
	if f == nil {
		// Identical to an answer in flight too large to share from its
		// start: upstream on its own.
		out.OnResponse(proxy.RespCacheFill, tag("miss"))
		return nil, nil
	}
	if m.leader {
		return c.lead(out, f, m)
	}
	return c.follow(out, k, f, m)
}

// lookup answers from the store, or returns nil.
func (c *Cache) lookup(out *proxy.Outgoing) *proxy.Response {
	e, ok := c.store.Get(out.Key)
	if !ok {
		return nil
	}
	h, err := decodeHead(e.Head)
	var res *proxy.Response
	if err == nil {
		res, err = hitResponse(out, e, h, c.now())
	}
	if err != nil {
		c.log.Warn("dedup cache entry not replayable; going upstream", "id", out.ID, "error", err)
		return nil
	}
	out.Annotate(func(rec *storage.Record) { markSaved(rec, true) })
	return res
}

// lead makes out the leader of a new flight: its attempts run detached
// from its client, and its response feeds every member.
func (c *Cache) lead(out *proxy.Outgoing, f *flight, m *member) (*proxy.Response, error) {
	// The previous flight may have stored its answer and left between the
	// lookup and the join.
	if res := c.lookup(out); res != nil {
		m.leave()
		f.fail()
		return res, nil
	}
	out.Detach(f.ctx)
	out.OnResponse(proxy.RespCacheFill, func(res *proxy.Response) error {
		f.start(res)
		res.Header.Set(HeaderCache, "miss")
		res.Body = &reader{m: m}
		return nil
	})
	out.Annotate(func(rec *storage.Record) {
		// No response reached the hook (a road failure, a refusal by a
		// later stage): the waiting members go upstream themselves.
		f.fail()
		c.settle(m, rec)
	})
	return nil, nil
}

// follow makes out share the leader's answer.
func (c *Cache) follow(out *proxy.Outgoing, k kind, f *flight, m *member) (*proxy.Response, error) {
	ok, err := m.waitHead()
	if err != nil {
		return nil, &proxy.Error{Status: proxy.StatusClientClosed, Type: proxy.TypeAPI, Class: storage.ClassClient4xx,
			Message: "the client left while an identical request was in flight", Err: err}
	}
	if !ok {
		out.OnResponse(proxy.RespCacheFill, func(res *proxy.Response) error {
			res.Header.Set(HeaderCache, "miss")
			c.teeFill(out, k, res)
			return nil
		})
		return nil, nil
	}
	f.mu.Lock()
	status, hdr := f.status, f.header.Clone()
	f.mu.Unlock()
	dropStale(hdr)
	hdr.Set(HeaderCache, "coalesced")
	if rid := hdr.Get("Request-Id"); rid != "" {
		hdr.Set(HeaderCacheRequestID, rid)
	}
	var body io.ReadCloser = &reader{m: m}
	if strings.EqualFold(hdr.Get("Content-Encoding"), "gzip") && !clientTakesGzip(out) {
		hdr.Del("Content-Encoding")
		hdr.Del("Content-Length")
		body = &gunzipReader{rc: body}
	}
	out.Annotate(func(rec *storage.Record) { c.settle(m, rec) })
	return &proxy.Response{Status: status, Header: hdr, Body: body, Coalesced: true}, nil
}

// settle writes a member's share of the flight into its record.
func (c *Cache) settle(m *member, rec *storage.Record) {
	switch m.settled() {
	case rolePayer:
		if !m.leader {
			rec.Coalesced = true // it paid for a call another client started
		}
	case roleSaver:
		markSaved(rec, false)
	case roleLeft:
		markLeft(rec)
	}
}

// dropStale removes what a shared or replayed answer must not carry: the
// rate-limit headroom and subscription quota (anthropic-ratelimit-*,
// unified ones included) and retry-after, which the trackers would read
// as news.
func dropStale(h http.Header) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "anthropic-ratelimit-") || strings.EqualFold(k, "Retry-After") {
			delete(h, k)
		}
	}
}

// tag sets x-ferry-cache on the response.
func tag(v string) proxy.ResponseHook {
	return func(res *proxy.Response) error {
		res.Header.Set(HeaderCache, v)
		return nil
	}
}

// directives reads the client's cache switches: Cache-Control no-cache
// or no-store, or x-ferry-cache: bypass, skip the lookup and coalescing;
// no-store also the fill.
func directives(out *proxy.Outgoing) (bypass, noStore bool) {
	for _, v := range out.Header.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			switch strings.ToLower(strings.TrimSpace(d)) {
			case "no-cache":
				bypass = true
			case "no-store":
				bypass, noStore = true, true
			}
		}
	}
	if strings.EqualFold(strings.TrimSpace(out.Ferry.Get(HeaderCache)), "bypass") {
		bypass = true
	}
	return bypass, noStore
}

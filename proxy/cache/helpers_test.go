package cache_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/reqkey"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/proxy/usage"
	"github.com/ferry-gateway/ferry/storage"
)

// rig is Ferry with the cache stage in front of the fake API, over real
// HTTP, with a real cache.db and the real usage meter.
type rig struct {
	t     *testing.T
	fake  *testsupport.FakeAPI
	url   string
	cache *cache.Cache
	store *storage.CacheDB
	keyer *reqkey.Keyer
	recs  *records
	path  string
	sent  atomic.Int64 // requests made through try
}

type rigOption func(*rigConfig)

type rigConfig struct {
	cfg      cache.Config
	path     string
	fake     []testsupport.Option
	now      func() time.Time
	upstream http.Handler
}

func withConfig(f func(c *cache.Config)) rigOption { return func(r *rigConfig) { f(&r.cfg) } }
func withPath(p string) rigOption                  { return func(r *rigConfig) { r.path = p } }
func withFake(o ...testsupport.Option) rigOption {
	return func(r *rigConfig) { r.fake = append(r.fake, o...) }
}

// withClock gives the cache and its store one clock, for expiry.
func withClock(c *clock) rigOption { return func(r *rigConfig) { r.now = c.Now } }

// withUpstream puts h in the fake API's place, for answers the fake
// doesn't give (refusals, empty answers).
func withUpstream(h http.Handler) rigOption { return func(r *rigConfig) { r.upstream = h } }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var secret = []byte("per-install-secret-for-tests-0123")

func newRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	rc := rigConfig{cfg: cache.DefaultConfig(), path: filepath.Join(t.TempDir(), storage.CacheFileName)}
	for _, o := range opts {
		o(&rc)
	}
	fake := testsupport.NewFakeAPI(t, rc.fake...)
	keyer, err := reqkey.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	store := storage.OpenCache(rc.path, storage.CacheOptions{NoSync: true, MaxBytes: rc.cfg.MaxBytes, MaxEntryBytes: rc.cfg.MaxEntryBytes, Now: rc.now})
	t.Cleanup(func() { store.Close() })
	c := cache.New(cache.Options{Store: store, Config: rc.cfg, CredTag: func(cred string) string {
		mac := keyer.CredentialMAC(cred)
		return hex.EncodeToString(mac[:16])
	}, Logger: slog.New(slog.DiscardHandler), Now: rc.now})
	recs := &records{ch: make(chan storage.Record, 1000)}
	meters := usage.NewMeters(usage.MetersOptions{})
	upstream := fake.URL
	if rc.upstream != nil {
		us := httptest.NewServer(rc.upstream)
		t.Cleanup(us.Close)
		upstream = us.URL
	}
	base, _ := url.Parse(upstream)
	p, err := proxy.New(proxy.Options{
		APIBase:  base,
		Stages:   []proxy.Stage{c.Stage()},
		Key:      keyer.KeyFunc(nil),
		Recorder: recs,
		Observe: func(r *http.Request, body []byte, start time.Time) proxy.Observer {
			return meters.NewObserver(r, body, start)
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	return &rig{t: t, fake: fake, url: "http://" + ln.Addr().String(), cache: c, store: store, keyer: keyer, recs: recs, path: rc.path}
}

// records keeps the proxy's records.
type records struct {
	mu  sync.Mutex
	all []storage.Record
	ch  chan storage.Record
}

func (r *records) Record(rec storage.Record) {
	r.mu.Lock()
	r.all = append(r.all, rec)
	r.mu.Unlock()
	r.ch <- rec
}

func (r *records) count() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.all))
}

func (r *records) next(t *testing.T) storage.Record {
	t.Helper()
	select {
	case rec := <-r.ch:
		return rec
	case <-time.After(30 * time.Second):
		t.Fatal("no record")
		return storage.Record{}
	}
}

// req is one client request.
type req struct {
	method, path string
	body         string
	header       map[string]string
}

type got struct {
	status int
	header http.Header
	body   []byte
}

const apiKey = "sk-ant-api03-test-key-aaaa"

func (r *rig) do(q req) got {
	r.t.Helper()
	g, err := r.try(context.Background(), q)
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func (r *rig) try(ctx context.Context, q req) (got, error) {
	method := q.method
	if method == "" {
		method = "POST"
	}
	path := q.path
	if path == "" {
		path = "/v1/messages"
	}
	var body io.Reader
	if q.body != "" {
		body = bytes.NewReader([]byte(q.body))
	}
	hr, err := http.NewRequestWithContext(ctx, method, r.url+path, body)
	if err != nil {
		return got{}, err
	}
	hr.Header.Set("X-Api-Key", apiKey)
	hr.Header.Set("Anthropic-Version", "2023-06-01")
	hr.Header.Set("Content-Type", "application/json")
	for k, v := range q.header {
		hr.Header.Set(k, v)
	}
	r.sent.Add(1)
	res, err := http.DefaultTransport.(*http.Transport).RoundTrip(hr)
	if err != nil {
		return got{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return got{status: res.StatusCode, header: res.Header, body: b}, err
	}
	return got{status: res.StatusCode, header: res.Header, body: b}, nil
}

// upstreamCalls counts the requests the fake answered.
func (r *rig) upstreamCalls() int { return len(r.fake.Requests()) }

// settle waits until every request made through try has ended on
// Ferry's side (its record is made after the answer was handed to the
// store) and the store wrote what it was given. A client can see a
// non-streamed answer whole (Content-Length) before Ferry's relay reads
// its end.
func (r *rig) settle() {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for r.recs.count() < r.sent.Load() {
		if time.Now().After(deadline) {
			r.t.Fatalf("%d records for %d requests", r.recs.count(), r.sent.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if err := r.store.Flush(); err != nil {
		r.t.Fatal(err)
	}
}

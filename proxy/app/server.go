package app

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/filter"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"github.com/ferry-gateway/ferry/proxy/quota"
	"github.com/ferry-gateway/ferry/proxy/reqkey"
	"github.com/ferry-gateway/ferry/proxy/retry"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/secrets"
	"github.com/ferry-gateway/ferry/proxy/settings"
	"github.com/ferry-gateway/ferry/proxy/usage"
	"github.com/ferry-gateway/ferry/storage"
)

// DBFile is the database's name in the data dir.
const DBFile = "ferry.db"

// Server is Ferry's core, assembled. Open builds it without touching the
// network (subcommands use its handlers in-process); Start listens and
// starts the background loops; Stop ends everything in order.
type Server struct {
	cfg        Config
	apiBase    *url.URL
	log        *slog.Logger
	db         *storage.DB
	secrets    *secrets.Store
	keys       *Keys
	bus        *events.Bus
	stream     *events.Stream // GET /_ferry/events
	routes     *route.Manager
	proxy      *proxy.Proxy
	recorder   *storage.Recorder
	prices     *usage.Prices
	meters     *usage.Meters
	stats      *usage.Handlers
	registry   *settings.Registry
	road       *retry.Metrics // retries, failovers, stalls, breakers
	budgets    *budget.Guard
	filters    *filter.Manager
	limits     *limit.Limiter
	quota      *quota.Tracker
	keyer      *reqkey.Keyer
	cache      *cache.Cache
	cacheDB    *storage.CacheDB
	brake      *brake.Brake
	settings   *runtimeSettings
	adminToken string
	firstRun   bool
	started    time.Time

	mu       sync.Mutex
	ln       net.Listener
	cancel   context.CancelFunc
	loops    sync.WaitGroup
	done     chan struct{}
	doneOnce sync.Once
	startErr error
	stopped  atomic.Bool
	onShow   func() // the desktop's "open dashboard", for a second launch
	showMu   sync.Mutex
}

// Open opens the database and builds the core; nothing listens yet.
func Open(cfg Config) (*Server, error) {
	cfg.applyDefaults()
	if cfg.DataDir == "" {
		return nil, errNoDataDir
	}
	// The data dir holds the tokens: refuse one another user could have
	// planted or can change (see package secrets).
	if err := secrets.CheckDir(cfg.DataDir); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(cfg.DataDir, DBFile)
	statErr := checkDBFile(dbPath)
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return nil, statErr
	}
	sec, err := secrets.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	db, err := storage.Open(dbPath, storage.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	bus := &events.Bus{}
	reg, err := openSettings(db, bus, &cfg)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	base, err := cfg.validate()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &Server{
		cfg: cfg, apiBase: base, log: cfg.Logger, db: db, secrets: sec, bus: bus, registry: reg,
		firstRun: errors.Is(statErr, fs.ErrNotExist), done: make(chan struct{}),
	}
	if err := s.build(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) build() (err error) {
	cfg := s.cfg
	s.adminToken = randomHex(24)
	if err := migrateSecrets(s.db, s.secrets, s.log); err != nil {
		return err
	}
	if s.keys, err = loadKeys(s.secrets, cfg.APIKey, keyringAvailable(cfg.Getenv)); err != nil {
		return err
	}
	s.settings = newRuntimeSettings(s.registry)
	dial := route.DialOptions{ConnectTimeout: cfg.ConnectTimeout, InsecureSkipVerify: cfg.InsecureSkipVerify,
		H2PingInterval: s.registry.Value(KeyRoadH2PingInterval).Duration(),
		H2PingTimeout:  s.registry.Value(KeyRoadH2PingTimeout).Duration()}
	if cfg.CAFile != "" {
		if dial.RootCAs, err = loadCAFile(cfg.CAFile); err != nil {
			return err
		}
	}
	var extra *route.Route
	switch {
	case cfg.Via != "":
		r, err := route.Parse("--via", cfg.Via)
		if err != nil {
			return fmt.Errorf("--via: %w", err)
		}
		extra = &r
	default:
		r, err := route.FromEnvironment(cfg.Getenv, s.apiBase)
		if err != nil {
			return fmt.Errorf("proxy from the environment: %w", err)
		}
		if r.URL != "direct" {
			extra = &r
		}
	}
	s.road = retry.NewMetrics(func() []route.Status { return s.routes.Routes() })
	s.routes, err = route.NewManager(route.ManagerOptions{
		Settings: routeSettings{db: s.db, file: s.secrets, useKeyring: keyringAvailable(cfg.Getenv), log: s.log},
		Via:      extra, Dial: dial, Target: s.apiBase, Bus: s.bus, Logger: s.log,
		Metrics: s.road, Failover: s.registry.Value(KeyRoadFailover).String(),
	})
	if err != nil {
		return fmt.Errorf("routes: %w", err)
	}
	s.routes.SetKeepWarm(s.registry.Value(KeyRoadKeepWarm).Bool())
	s.recorder = storage.NewRecorder(s.db, storage.RecorderOptions{Logger: s.log})
	if s.prices, err = usage.LoadPrices(s.db); err != nil {
		// LoadPrices still returns the defaults: a damaged setting never
		// leaves Ferry without prices.
		s.log.Warn("stored prices unreadable; using the defaults", "err", err)
	}
	// One tracker for the meters that fill it and the stats that read it.
	limits := &usage.HeadroomTracker{}
	s.meters = usage.NewMeters(usage.MetersOptions{Prices: s.prices, Headroom: limits, Settings: s.db, Logger: s.log})
	s.stats = usage.NewHandlers(usage.HandlersOptions{
		DB: s.db, Prices: s.prices, Headroom: limits, QueueDropped: s.recorder.Dropped,
		Health: s.upstreamHealth, Logger: s.log,
		Refused: func() map[string]uint64 {
			if s.proxy == nil {
				return nil
			}
			return s.proxy.Refusals()
		},
	})
	// The filter lists; placeholders are hashed under a per-install key.
	fkey, err := s.secrets.InstallKey("filter")
	if err != nil {
		return fmt.Errorf("filters: %w", err)
	}
	if s.filters, err = filter.NewManager(s.db, fkey); err != nil {
		return fmt.Errorf("filters: %w", err)
	}
	if err := s.buildSpendGuard(); err != nil {
		return err
	}
	if err := s.buildCache(); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	s.proxy, err = proxy.New(proxy.Options{
		APIBase:            s.apiBase,
		Routes:             s.routes,
		FirstByteTimeout:   cfg.FirstByteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		MaxBody:            cfg.MaxBody,
		MaxBodyLarge:       DefaultMaxBodyLarge,
		ListenAddr:         cfg.Listen,
		AllowRemote:        cfg.AllowRemote,
		AllowOrigins:       cfg.AllowOrigins,
		Keys:               s.keys,
		AdminToken:         func() string { return s.adminToken },
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		Observe: s.settings.observe(func(r *http.Request, body []byte, start time.Time) proxy.Observer {
			return s.meters.NewObserver(r, body, start)
		}),
		Recorder: countingRecorder{s.recorder, s.stats},
		Bus:      s.bus,
		Logger:   s.log,
		Version:  cfg.Version,
		Stages:   s.stages(),
		Key:      s.requestKey(),
		KeyPrep:  s.keyer.KeyPrep(s.filters.VersionOf),
		Retry:    s.retryPolicy(),
		// road.* (issue 9): event streams have their own clocks.
		StreamIdleTimeout:      s.registry.Value(KeyRoadStreamIdleTimeout).Duration(),
		StreamFirstByteTimeout: s.registry.Value(KeyRoadStreamFirstByte).Duration(),
		OnStall:                s.road.Stall,
	})
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	s.stream = events.NewStream(s.bus, events.StreamOptions{})
	if err := s.stats.Metrics().Registry().Register(spendCollector{s}); err != nil {
		return fmt.Errorf("spend guard metrics: %w", err)
	}
	if err := s.road.Register(s.stats.Metrics().Registry()); err != nil {
		return fmt.Errorf("road metrics: %w", err)
	}
	s.stats.Register(s.mountStats)
	s.budgets.Register(s.proxy.HandleAdmin)
	s.filters.Mount(s.proxy.HandleAdmin)
	(&cache.Handlers{Cache: s.cache, Store: s.cacheDB, History: s.db}).Register(s.proxy.HandleAdmin)
	s.limits.Register(s.proxy.HandleAdmin)
	s.quota.Register(s.proxy.HandleAdmin)
	s.brake.Register(s.proxy.HandleAdmin)
	s.mountAdmin()
	return nil
}

func loadCAFile(path string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificates in it", path)
	}
	return pool, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no randomness: nothing safe can run
	}
	return hex.EncodeToString(b)
}

// Start listens on the configured address, writes runtime.json and starts
// the background loops (route probes, usage queue, retention). The loops
// end when ctx ends or Stop is called.
func (s *Server) Start(ctx context.Context) error {
	// A runtime.json left by a Ferry that died names a port anyone may
	// take now: remove it before anything could trust it.
	if err := removeStaleRuntime(s.cfg.DataDir); err != nil {
		s.log.Warn("could not remove a stale runtime.json", "err", err)
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		err = listenError(s.cfg.Listen, err)
		s.ReportStartError(err)
		return err
	}
	// The loops outlive ctx's cancellation on purpose: Stop ends them in
	// order, after the drain, so that the last records are flushed.
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.ln, s.cancel, s.started = ln, cancel, time.Now()
	s.mu.Unlock()

	s.goLoop(func() {
		if err := s.recorder.Run(loopCtx); err != nil {
			s.log.Error("usage recorder stopped", "err", err)
		}
	})
	s.goLoop(func() { s.routes.Run(loopCtx) })
	s.goLoop(func() { s.db.RunRetention(loopCtx, s.settings.Retention) })
	s.goLoop(func() {
		if err := s.proxy.Serve(loopCtx, ln); err != nil {
			s.log.Error("serve", "err", err)
		}
		s.doneOnce.Do(func() { close(s.done) })
	})
	if err := writeRuntime(s.cfg.DataDir, Runtime{
		Listen: ln.Addr().String(), PID: os.Getpid(), AdminToken: s.adminToken,
		Version: s.cfg.Version, Started: s.started,
	}); err != nil {
		return err
	}
	if w := proxy.PlainHTTPWarning(s.apiBase); w != "" {
		s.log.Warn(w + " (--api-base)")
	}
	if s.cfg.AllowRemote {
		s.log.Warn("remote access is on (--allow-remote): the local token crosses the network in clear on every request unless TLS terminates in front of Ferry")
	}
	if s.cfg.InsecureSkipVerify {
		s.log.Warn("TLS VERIFICATION IS OFF (--insecure-skip-verify): anyone on the road can read and change your traffic, API key included")
	}
	return nil
}

func (s *Server) goLoop(f func()) {
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		f()
	}()
}

// listenError turns "address already in use" into one line naming the port
// and the flag that changes it.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		_, port, _ := net.SplitHostPort(addr)
		return fmt.Errorf("port %s is already in use (%s): another program, or another Ferry, listens there; stop it or choose another port with --listen 127.0.0.1:PORT (FERRY_LISTEN)", port, addr)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}

// ReportStartError remembers why the proxy could not start and publishes it,
// so the desktop can say so with the fix.
func (s *Server) ReportStartError(err error) {
	s.mu.Lock()
	s.startErr = err
	s.mu.Unlock()
	s.bus.Publish(events.Event{Kind: events.ListenFailed, Detail: err.Error()})
}

// StartError is why the proxy could not start, or nil.
func (s *Server) StartError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startErr
}

// Stop shuts Ferry down in order: stop accepting and drain in-flight
// requests (up to the drain timeout), stop the loops, flush the usage queue,
// close the database, remove runtime.json. Safe to call more than once.
func (s *Server) Stop(ctx context.Context) error {
	if !s.stopped.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	s.mu.Lock()
	ln, cancel := s.ln, s.cancel
	s.mu.Unlock()
	// Event streams never end by themselves: end them first, or the drain
	// would wait for them until its deadline.
	s.stream.Close()
	if ln != nil {
		drainCtx, cancelDrain := context.WithTimeout(ctx, s.cfg.DrainTimeout)
		if err := s.proxy.Shutdown(drainCtx); err != nil {
			s.log.Warn("drain incomplete", "err", err)
		}
		cancelDrain()
	}
	if cancel != nil {
		cancel() // the recorder's Run flushes what is queued before it returns
	}
	s.loops.Wait()
	s.quota.Close() // after the drain: the last responses' readings are saved
	s.doneOnce.Do(func() { close(s.done) })
	if ln != nil {
		if err := removeRuntime(s.cfg.DataDir, os.Getpid()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.cacheDB.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close cache: %w", err))
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close database: %w", err))
	}
	return errors.Join(errs...)
}

// Done is closed when the server stopped serving.
func (s *Server) Done() <-chan struct{} { return s.done }

// Handler is the whole HTTP surface: the proxy and the admin API.
func (s *Server) Handler() http.Handler { return s.proxy }

// AdminToken authorises admin calls that change anything.
func (s *Server) AdminToken() string { return s.adminToken }

// Listen is the address actually listened on (the configured one before Start).
func (s *Server) Listen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.Listen
}

// BaseURL is what clients put in ANTHROPIC_BASE_URL.
func (s *Server) BaseURL() string { return "http://" + s.Listen() }

// FirstRun says the database did not exist before this start.
func (s *Server) FirstRun() bool { return s.firstRun }

// RouteDescription names the route in use, credentials masked.
func (s *Server) RouteDescription() string {
	up, err := s.routes.Current()
	if err != nil {
		return "none: " + err.Error()
	}
	return fmt.Sprintf("%s, %s", up.Route.Name, up.Route.Masked())
}

// Bus is where the core publishes what happens.
func (s *Server) Bus() *events.Bus { return s.bus }

// Secrets is the secrets file: per-install keys for other parts
// (Secrets().InstallKey("cache")).
func (s *Server) Secrets() *secrets.Store { return s.secrets }

// Keys gives the local token and the held API key.
func (s *Server) Keys() *Keys { return s.keys }

// Routes is the route manager (choices, health, probes).
func (s *Server) Routes() *route.Manager { return s.routes }

// Budgets returns the budgets (the spend guard's PhaseBudget stage).
func (s *Server) Budgets() *budget.Guard { return s.budgets }

// Brake returns the runaway brake.
func (s *Server) Brake() *brake.Brake { return s.brake }

// Cache returns the dedup cache (the tray says when it does not answer).
func (s *Server) Cache() *cache.Cache { return s.cache }

// Quota returns the subscription quota seen on responses.
func (s *Server) Quota() *quota.Tracker { return s.quota }

// Limits returns the local rate limits and the concurrency queue.
func (s *Server) Limits() *limit.Limiter { return s.limits }

// Proxy is the forwarding handler (pause and resume).
func (s *Server) Proxy() *proxy.Proxy { return s.proxy }

// Registry is the settings registry: every knob, its value and watchers.
func (s *Server) Registry() *settings.Registry { return s.registry }

// DB is the database (usage queries, settings).
func (s *Server) DB() *storage.DB { return s.db }

// Filters is the filter lists (the settings window's Filters page; the
// cache keys on Filters().Version()).
func (s *Server) Filters() *filter.Manager { return s.filters }

// Prices is the live price table.
func (s *Server) Prices() *usage.Prices { return s.prices }

// Stats answers the usage questions of the dashboard and /_ferry/stats.
func (s *Server) Stats() *usage.Handlers { return s.stats }

// countingRecorder counts every record in the Prometheus metrics (cheap
// atomic adds) before queueing it for the database.
type countingRecorder struct {
	queue *storage.Recorder
	stats *usage.Handlers
}

func (c countingRecorder) Record(rec storage.Record) {
	// Outside strings are bounded before they are counted or stored
	// (issue 14): the path a client chose, the model and error type a
	// client or upstream sent.
	rec.Path = proxy.TruncatePath(rec.Path)
	rec.Model = storage.NormalizeModel(rec.Model)
	if rec.ErrorType != "" {
		rec.ErrorType = storage.NormalizeModel(rec.ErrorType)
	}
	c.stats.Observe(&rec)
	c.queue.Record(rec)
}

func (s *Server) upstreamHealth() []usage.UpstreamHealth {
	var out []usage.UpstreamHealth
	for _, st := range s.routes.Routes() {
		out = append(out, usage.UpstreamHealth{Route: st.Name, Up: st.Health.Up, Latency: st.Health.Latency})
	}
	return out
}

// DataDir is where ferry.db and runtime.json live.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Config is the configuration this server started with.
func (s *Server) Config() Config { return s.cfg }

// SetShowDashboard registers what "open the dashboard" does when a second
// `ferry` is launched.
func (s *Server) SetShowDashboard(f func()) {
	s.showMu.Lock()
	s.onShow = f
	s.showMu.Unlock()
}

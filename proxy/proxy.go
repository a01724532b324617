package proxy

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/storage"
)

// DefaultAPIBase is where requests go when Options.APIBase is nil.
const DefaultAPIBase = "https://api.anthropic.com"

// Proxy is Ferry's forwarding handler. Build it with New; it is safe for
// concurrent use.
type Proxy struct {
	opts    Options
	base    *url.URL
	routes  route.Chooser
	hosts   hostGuard
	origins originGuard
	log     *slog.Logger
	started time.Time
	paused  atomic.Bool

	// stages are Options.Stages in pipeline order (stable by Phase).
	stages []Stage

	admin  *http.ServeMux
	health healthCache

	idPrefix string
	idSeq    atomic.Uint64

	inflight atomic.Int64
	// books runs the bookkeeping of finished requests (usage, record,
	// event, log line); Shutdown waits for it.
	books books
	srvMu sync.Mutex
	srv   *http.Server
}

// New checks o, fills in its defaults and returns a Proxy.
func New(o Options) (*Proxy, error) {
	if o.FirstByteTimeout <= 0 {
		o.FirstByteTimeout = DefaultFirstByteTimeout
	}
	if o.StreamIdleTimeout <= 0 {
		o.StreamIdleTimeout = DefaultStreamIdleTimeout
	}
	if o.StreamFirstByteTimeout <= 0 {
		o.StreamFirstByteTimeout = DefaultStreamFirstByteTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxBodyLarge <= 0 {
		o.MaxBodyLarge = DefaultMaxBodyLarge
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	base := o.APIBase
	if base == nil {
		base, _ = url.Parse(DefaultAPIBase)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("API base %q: want an http:// or https:// URL with a host", redact(base.String()))
	}
	if o.Routes == nil {
		up, err := route.NewUpstream(route.Route{Name: "Direct", URL: route.DirectURL}, route.DialOptions{})
		if err != nil {
			return nil, fmt.Errorf("direct route: %w", err)
		}
		o.Routes = route.NewFixed(up)
	}
	if o.AllowRemote && (o.Keys == nil || o.Keys.LocalToken() == "") {
		return nil, ErrNoLocalToken
	}
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	p := &Proxy{
		opts:     o,
		base:     base,
		routes:   o.Routes,
		hosts:    newHostGuard(o.ListenAddr, o.AllowRemote),
		origins:  newOriginGuard(o.AllowOrigins),
		log:      o.Logger,
		started:  time.Now(),
		admin:    http.NewServeMux(),
		idPrefix: "ferry_" + hex.EncodeToString(idb[:]),
		stages:   slices.Clone(o.Stages),
	}
	slices.SortStableFunc(p.stages, func(a, b Stage) int { return cmp.Compare(a.Phase, b.Phase) })
	p.mountBuiltins()
	return p, nil
}

// Pause makes Ferry answer API requests with 503 until Resume. Admin
// requests still work. In-flight requests are not touched.
func (p *Proxy) Pause() { p.setPaused(true) }

// Resume undoes Pause.
func (p *Proxy) Resume() { p.setPaused(false) }

// Paused reports whether Ferry is paused.
func (p *Proxy) Paused() bool { return p.paused.Load() }

func (p *Proxy) setPaused(v bool) {
	if p.paused.Swap(v) == v {
		return
	}
	state := "running"
	if v {
		state = "paused"
	}
	p.log.Info("proxy "+state, "state", state)
	if p.opts.Bus != nil {
		p.opts.Bus.Publish(events.Event{Kind: events.StateChanged, Detail: state})
	}
}

// requestID is the id the front door gave r (so a panic's log line and
// the record name the same request), or a new one for a request served
// without it (a handler mounted directly, as in tests).
func (p *Proxy) requestID(r *http.Request) string {
	if id := RequestIDFrom(r.Context()); id != "" {
		return id
	}
	return p.newID()
}

func (p *Proxy) newID() string {
	return p.idPrefix + strconv.FormatUint(p.idSeq.Add(1), 36)
}

// ServeHTTP forwards an API request, or serves /_ferry/ admin calls.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.inflight.Add(1)
	defer p.inflight.Add(-1)
	if isAdminPath(r.URL.Path) {
		p.serveAdmin(w, r)
		return
	}
	x := &exchange{p: p, w: w, r: r, start: time.Now(), id: p.requestID(r)}
	x.rec = storage.Record{
		Time:   x.start,
		Method: r.Method,
		// Bounded here, once, for the record and the log line alike: a
		// page could send 900 KB paths (issue 14).
		Path:   TruncatePath(r.URL.Path),
		Client: r.Header.Get("User-Agent"),
	}
	p.books.begin()
	defer p.books.settle(x)
	p.serveAPI(x)
	x.finish()
}

// where names the route and target of an exchange for error messages.
func (p *Proxy) where(up *route.Upstream) target {
	t := target{host: p.base.Host, firstByte: p.opts.FirstByteTimeout.String(), idle: p.opts.IdleTimeout.String(),
		streamFirstByte: p.opts.StreamFirstByteTimeout.String(), streamIdle: p.opts.StreamIdleTimeout.String()}
	if up != nil {
		t.route = up.Route.Name
	}
	return t
}

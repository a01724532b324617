package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	}
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
	x := &exchange{p: p, w: w, r: r, start: time.Now(), id: p.newID()}
	x.rec = storage.Record{
		Time:   x.start,
		Method: r.Method,
		Path:   r.URL.Path,
		Client: r.Header.Get("User-Agent"),
	}
	p.serveAPI(x)
	x.finish()
}

func (p *Proxy) serveAPI(x *exchange) {
	r := x.r
	origin, gerr := p.guard(r)
	if gerr != nil {
		x.fail(gerr)
		return
	}
	x.origin = origin
	if isPreflight(r) {
		// A CORS handshake from an allowed origin, answered here: it is
		// not an API call, so it is not recorded either.
		writePreflight(x.w, r, origin)
		x.noRecord = true
		return
	}
	if p.paused.Load() {
		x.fail(&Error{Status: http.StatusServiceUnavailable, Type: TypeAPI, Class: storage.ClassFerry,
			Message: "Ferry is paused; resume it from the tray menu or with POST /_ferry/resume"})
		return
	}
	out := r.Header.Clone()
	removeHopByHop(out)
	key, aerr := p.authorize(r.URL.Path, out)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	x.rec.KeyFingerprint = fingerprint(key)

	var (
		body   []byte
		stream *deadlineBody
	)
	if largeEndpoint(r.URL.Path) {
		if r.ContentLength > p.opts.MaxBodyLarge {
			x.fail(tooLarge(p.opts.MaxBodyLarge))
			return
		}
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			// Keep reading the upload while the response is written:
			// without it the HTTP/1.1 server closes the request body at
			// the first write (golang/go#40747). Buffered bodies need
			// none: they are read whole before anything is written.
			// Unsupported on HTTP/2, which needs none either.
			_ = http.NewResponseController(x.w).EnableFullDuplex()
			stream = &deadlineBody{
				rc:   http.NewResponseController(x.w),
				body: http.MaxBytesReader(x.w, r.Body, p.opts.MaxBodyLarge),
				idle: p.opts.IdleTimeout,
				n:    &x.rec.BytesIn,
			}
			x.upload = stream
		}
	} else {
		var err error
		body, err = readBody(x.w, r, p.opts.MaxBody, p.opts.IdleTimeout)
		if err != nil {
			x.fail(errorFor(r.Context(), r.Context(), err, p.where(nil)))
			return
		}
		x.rec.BytesIn = int64(len(body))
		facts := sniffRequest(body, r.URL.Path == "/v1/messages" || r.URL.Path == "/v1/chat/completions")
		x.rec.Model, x.rec.Stream = facts.model, facts.stream
	}

	if len(p.opts.Before) > 0 {
		og := &Outgoing{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Header: out, Body: body, Model: x.rec.Model, Stream: x.rec.Stream,
			KeyFingerprint: x.rec.KeyFingerprint, Client: x.rec.Client,
		}
		for _, hook := range p.opts.Before {
			ans, err := hook(r.Context(), og)
			if err != nil {
				x.fail(hookError(err))
				return
			}
			if ans != nil {
				x.body = og.Body
				x.answer(ans)
				return
			}
		}
		out = og.Header
		if stream == nil {
			body = og.Body
		}
	}
	x.body = body

	out.Set("Accept-Encoding", upstreamEncoding(r.Header.Values("Accept-Encoding"), x.rec.Stream))
	if _, ok := out["User-Agent"]; !ok {
		// Otherwise the transport adds Go's own.
		out["User-Agent"] = []string{""}
	}

	up, err := p.routes.Current()
	if err != nil {
		x.fail(&Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: err,
			Message: "no usable upstream route: " + redact(err.Error())})
		return
	}
	x.rec.Route = up.Route.Name
	p.forward(x, up, out, body, stream)
}

// hookError turns what a RequestHook returned into the error written.
func hookError(err error) *Error {
	if fe, ok := err.(*Error); ok {
		return fe
	}
	return &Error{Status: http.StatusInternalServerError, Type: TypeAPI, Class: storage.ClassFerry, Err: err,
		Message: "Ferry failed to process the request: " + redact(err.Error())}
}

// where names the route and target of an exchange for error messages.
func (p *Proxy) where(up *route.Upstream) target {
	t := target{host: p.base.Host, firstByte: p.opts.FirstByteTimeout.String(), idle: p.opts.IdleTimeout.String()}
	if up != nil {
		t.route = up.Route.Name
	}
	return t
}

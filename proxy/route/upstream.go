package route

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// DialOptions tune every connection an Upstream makes.
type DialOptions struct {
	// ConnectTimeout bounds one dial: TCP to the proxy (or target), the
	// proxy handshake and, in the Transport, the TLS handshake with the
	// target. Zero means 20 s.
	ConnectTimeout time.Duration
	// RootCAs verifies the target (and an https:// proxy); nil means the
	// system's roots.
	RootCAs *x509.CertPool
	// InsecureSkipVerify turns certificate verification off everywhere.
	InsecureSkipVerify bool
	// KeepAlive is the TCP keepalive period; zero means 30 s.
	KeepAlive time.Duration
	// H2PingInterval (road.h2_ping_interval) is the silence on an HTTP/2
	// connection after which Ferry pings it; zero means 30 s. Through a
	// tunnel TCP keepalives are answered by the proxy, so only a ping
	// finds a dead tunnel.
	H2PingInterval time.Duration
	// H2PingTimeout (road.h2_ping_timeout) is how long a ping may go
	// unanswered before the connection, and every stream on it, is
	// closed; zero means 15 s.
	H2PingTimeout time.Duration
	// IdleConnTimeout closes a pooled connection idle this long (never the
	// warm one); zero means 90 s. The road benchmark shortens it to stand
	// for a long idle.
	IdleConnTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
}

const (
	defaultConnectTimeout = 20 * time.Second
	defaultKeepAlive      = 30 * time.Second
	// DefaultH2PingInterval and DefaultH2PingTimeout are the defaults of
	// road.h2_ping_interval and road.h2_ping_timeout.
	DefaultH2PingInterval = 30 * time.Second
	DefaultH2PingTimeout  = 15 * time.Second
	// http1Conns bounds an HTTP/1.1 route's connections to the API host
	// (one request each), as issue 9 asks of a route fallen back from
	// HTTP/2.
	http1Conns = 16
)

func (o DialOptions) withDefaults() DialOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = defaultKeepAlive
	}
	if o.H2PingInterval <= 0 {
		o.H2PingInterval = DefaultH2PingInterval
	}
	if o.H2PingTimeout <= 0 {
		o.H2PingTimeout = DefaultH2PingTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = 90 * time.Second
	}
	return o
}

// Upstream is one route made usable: a pooled, keep-alive Transport whose
// DialContext speaks the route's proxy protocol itself, and whose TLS
// with the API host is Ferry's (tlsdial.go). Build it once per route and
// reuse it, or the pool is lost. Send requests with RoundTrip, which uses
// the warm connection when there is one and learns from HTTP/2 errors.
type Upstream struct {
	Route     Route
	Transport *http.Transport

	dialer *dialer
	tls    *tls.Config // for the target; cloned per handshake
	learn  *learner
	warm   *warmConn
	logger *slog.Logger
}

// NewUpstream validates r and builds its Transport.
func NewUpstream(r Route, o DialOptions) (*Upstream, error) {
	s, err := parseSpec(r.URL)
	if err != nil {
		return nil, err
	}
	o = o.withDefaults()
	tlsConf := &tls.Config{
		RootCAs:            o.RootCAs,
		InsecureSkipVerify: o.InsecureSkipVerify, //nolint:gosec // the user asked for it with --insecure-skip-verify
		MinVersion:         tls.VersionTLS12,
	}
	d := &dialer{
		route: r.Name,
		spec:  s,
		net: &net.Dialer{
			KeepAlive: o.KeepAlive,
		},
		timeout: o.ConnectTimeout,
		tlsConf: tlsConf,
	}
	t := &http.Transport{
		// Nil: we dial the proxy ourselves, so the standard library's own
		// CONNECT and loopback exemptions never apply.
		Proxy:       nil,
		DialContext: d.DialContext,
		// DialTLSContext is set below: Ferry's own TLS with the API host.
		// A custom DialContext or TLSClientConfig silently switches HTTP/2
		// off unless this is set; through SOCKS5 and CONNECT tunnels the
		// target still negotiates h2 by ALPN.
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     tlsConf.Clone(),
		TLSHandshakeTimeout: o.ConnectTimeout,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		MaxConnsPerHost:     http1Conns,
		IdleConnTimeout:     o.IdleConnTimeout,
		// The proxy core negotiates Accept-Encoding itself and must pass the
		// upstream's bytes unchanged: never decompress transparently.
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
		// No ResponseHeaderTimeout: the core owns first-byte and idle
		// timeouts (a non-streaming call may think for ten minutes).
		HTTP2: &http.HTTP2Config{
			// Pooled h2 connections through a proxy can die silently when
			// the proxy drops them; a ping after 30 s of silence finds out
			// before a request is sent into the void. Long silent streams
			// are unaffected: the server answers the ping.
			SendPingTimeout: o.H2PingInterval,
			PingTimeout:     o.H2PingTimeout,
		},
	}
	u := &Upstream{Route: r, Transport: t, dialer: d, tls: tlsConf, learn: newLearner(), logger: o.Logger}
	t.DialTLSContext = u.dialTLS
	// The warm connection's own Transport: IdleConnTimeout closes
	// connections made by NewClientConn too, and the warm one must
	// outlive any idle (that is its point). HTTP/2 pings still find a
	// dead one.
	wt := t.Clone()
	wt.IdleConnTimeout = 0
	// Go 1.26.8: closing an HTTP/1.1 ClientConn from NewClientConn
	// decrements the per-host count it never incremented, and panics
	// ("connCount underflow") when MaxConnsPerHost is set. The warm
	// connection is one connection; it needs no bound.
	wt.MaxConnsPerHost = 0
	u.warm = &warmConn{u: u, t: wt, kick: make(chan struct{}, 1)}
	return u, nil
}

func (u *Upstream) log(msg string, args ...any) { u.logger.Info(msg, args...) }

// Learnt is what the route learnt (HTTP/1.1, classic key shares).
func (u *Upstream) Learnt() Learnt { return u.learn.get() }

// RoundTrip sends req through the route: on the warm connection when one
// is ready (no handshake to pay), else through the Transport's pool. An
// HTTP/2 PROTOCOL_ERROR, in the response or later in its body, counts
// towards the route's fall back to HTTP/1.1.
func (u *Upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := u.warm.roundTrip(req)
	if res == nil && err == nil {
		res, err = u.Transport.RoundTrip(req)
	}
	if err != nil {
		u.noteError(err)
		return nil, err
	}
	if res.ProtoMajor == 2 && res.Body != nil {
		res.Body = &h2Body{ReadCloser: res.Body, u: u}
	}
	return res, nil
}

// noteError learns from a failed request or body read.
func (u *Upstream) noteError(err error) {
	if u.Route.HTTP == "" && isH2ProtocolError(err) && u.learn.h2ProtocolError() {
		u.log("route falls back to HTTP/1.1 after HTTP/2 protocol errors", "route", u.Route.Name)
		// New connections offer HTTP/1.1 only; idle HTTP/2 ones go now,
		// busy ones when their streams end.
		u.Transport.CloseIdleConnections()
		u.warm.redial()
	}
}

// h2Body watches an HTTP/2 response body for stream errors.
type h2Body struct {
	io.ReadCloser
	u *Upstream
}

func (b *h2Body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.u.noteError(err)
	}
	return n, err
}

// DialContext opens a raw connection to address ("host:port") through the
// route, exactly as the Transport does. Failures are *DialError.
func (u *Upstream) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return u.dialer.DialContext(ctx, network, address)
}

// Masked is the route's URL with credentials masked.
func (u *Upstream) Masked() string { return u.dialer.spec.masked }

// Direct reports whether the route dials targets without a proxy.
func (u *Upstream) Direct() bool { return u.dialer.spec.kind == kindDirect }

// Request is what a Chooser knows of the request it picks routes for:
// its headers and credential are inputs, so that one account or session
// can be kept on one route (a subscription flagged for hopping exits).
type Request struct {
	Header     http.Header // as it will be sent upstream; holds credentials
	Credential string      // the full key or token; never log or keep it
	Session    string      // Claude Code's session id, "" if none
}

// Outcome is what one attempt on a route came to.
type Outcome struct {
	// Class is "" when response headers came, else the road failure
	// (proxy.Class* names: connect, proxy_handshake, tls, reset,
	// first_byte) or "status" for a retryable upstream status.
	Class     string
	Status    int
	FirstByte time.Duration // to the response headers, when they came
	// Org is the response's anthropic-organization-id, "" when none came:
	// the account a sticky route is kept for.
	Org string
}

// Chooser gives the ordered candidate routes for a request and hears how
// each attempt went. Candidates never touches the network; it returns at
// least one route or an error.
type Chooser interface {
	Candidates(req Request) ([]*Upstream, error)
	Report(req Request, up *Upstream, o Outcome)
}

type fixed struct{ u *Upstream }

// NewFixed returns a Chooser that always answers u.
func NewFixed(u *Upstream) Chooser { return fixed{u} }

func (f fixed) Candidates(Request) ([]*Upstream, error) {
	if f.u == nil {
		return nil, ErrNoRoute
	}
	return []*Upstream{f.u}, nil
}

func (fixed) Report(Request, *Upstream, Outcome) {}

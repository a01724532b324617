package route

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
}

const (
	defaultConnectTimeout = 20 * time.Second
	defaultKeepAlive      = 30 * time.Second
)

func (o DialOptions) withDefaults() DialOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = defaultKeepAlive
	}
	return o
}

// Upstream is one route made usable: a pooled, keep-alive Transport whose
// DialContext speaks the route's proxy protocol itself. Build it once per
// route and reuse it, or the pool is lost.
type Upstream struct {
	Route     Route
	Transport *http.Transport

	dialer *dialer
	tls    *tls.Config // for the target; cloned per probe
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
		// A custom DialContext or TLSClientConfig silently switches HTTP/2
		// off unless this is set; through SOCKS5 and CONNECT tunnels the
		// target still negotiates h2 by ALPN.
		ForceAttemptHTTP2:   true,
		TLSClientConfig:     tlsConf.Clone(),
		TLSHandshakeTimeout: o.ConnectTimeout,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
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
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     15 * time.Second,
		},
	}
	return &Upstream{Route: r, Transport: t, dialer: d, tls: tlsConf}, nil
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

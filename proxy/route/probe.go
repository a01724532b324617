package route

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http2"
)

// Health is the outcome of one probe of a route.
type Health struct {
	Route     string        `json:"route"`
	Up        bool          `json:"up"`
	Connect   time.Duration `json:"connect"`   // TCP to the proxy, or to the target for direct routes (TLS to an https:// proxy included)
	Handshake time.Duration `json:"handshake"` // SOCKS5 or CONNECT to the target; 0 for direct
	TLS       time.Duration `json:"tls"`       // TLS handshake with the target; 0 for an http:// target
	Ping      time.Duration `json:"ping"`      // HTTP/2 PING round trip on the probe's connection; 0 over HTTP/1.1
	Latency   time.Duration `json:"latency"`   // the sum of the three
	Err       string        `json:"err,omitempty"`
	Checked   time.Time     `json:"checked"`
}

// Probe opens one fresh connection to target through the route, times each
// step (the hop to the proxy, the proxy handshake, TLS with the API host
// and, over HTTP/2, a PING round trip on the probe's own connection, so
// the user sees which hop is slow), and closes it. It never uses or
// disturbs the Transport's pool. The TLS handshake offers the route's key
// shares; in tls_key_share=auto a reset post-quantum handshake is probed
// again with classic ones, as a request would be. A failure sets Err to a
// message with credentials masked; steps that finished keep their times.
func (u *Upstream) Probe(ctx context.Context, target *url.URL) Health {
	pq := u.offerPQ()
	h, resetPQ := u.probe(ctx, target, pq)
	if resetPQ && u.Route.KeyShare == "" && ctx.Err() == nil {
		if h2, _ := u.probe(ctx, target, false); h2.Up {
			if u.learn.pqReset() {
				u.log("route learnt classic TLS key shares after post-quantum handshake resets", "route", u.Route.Name)
			}
			return h2
		}
	} else if h.Up && pq && u.Route.KeyShare == "" && strings.EqualFold(target.Scheme, "https") {
		u.learn.pqOK()
	}
	return h
}

// probe is one probe; resetPQ reports a post-quantum handshake reset.
func (u *Upstream) probe(ctx context.Context, target *url.URL, pq bool) (h Health, resetPQ bool) {
	h = Health{Route: u.Route.Name}
	if target == nil || target.Host == "" {
		h.Err = "no target to probe"
		h.Checked = time.Now()
		return h, false
	}
	addr := hostPort(target)
	tr := &trace{}
	start := time.Now()
	c, err := u.dialer.DialContext(withTrace(ctx, tr), "tcp", addr)
	done := time.Now()
	if !tr.connected.IsZero() {
		h.Connect = tr.connected.Sub(start)
		if u.dialer.spec.kind != kindDirect {
			h.Handshake = done.Sub(tr.connected)
		}
	}
	if err != nil {
		h.Handshake = 0 // it did not finish
		h.Err = err.Error()
		h.Latency = h.Connect
		h.Checked = time.Now()
		return h, false
	}
	defer c.Close()

	if strings.EqualFold(target.Scheme, "https") {
		conf := u.tlsConfig(target.Hostname(), pq)
		tctx, cancel := context.WithTimeout(ctx, u.dialer.timeout)
		defer cancel()
		tc := tls.Client(c, conf)
		t0 := time.Now()
		err := tc.HandshakeContext(tctx)
		h.TLS = time.Since(t0)
		if err != nil {
			h.Latency = h.Connect + h.Handshake + h.TLS
			h.Err = tlsMessage(u, addr, err)
			h.Checked = time.Now()
			return h, pq && isReset(err)
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			h.Ping, err = h2Ping(tctx, tc)
			if err != nil {
				h.Latency = h.Connect + h.Handshake + h.TLS
				h.Err = fmt.Sprintf("route %q: HTTP/2 PING to %s failed: %v", u.Route.Name, addr, err)
				h.Checked = time.Now()
				return h, false
			}
		}
	}
	h.Latency = h.Connect + h.Handshake + h.TLS
	h.Up = true
	h.Checked = time.Now()
	return h, false
}

// h2Ping opens an HTTP/2 client connection on tc (its own, outside every
// pool) and times one PING round trip: what a request's first byte costs
// on a warm connection, without the API's own think time.
func h2Ping(ctx context.Context, tc *tls.Conn) (time.Duration, error) {
	cc, err := (&http2.Transport{}).NewClientConn(tc)
	if err != nil {
		return 0, fmt.Errorf("HTTP/2 preface: %w", err)
	}
	defer cc.Close()
	t0 := time.Now()
	if err := cc.Ping(ctx); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

func tlsMessage(u *Upstream, addr string, err error) string {
	where := fmt.Sprintf("route %q", u.Route.Name)
	if !u.Direct() {
		where += " via proxy " + u.Masked()
	}
	msg := fmt.Sprintf("%s: TLS handshake with %s failed: %v", where, addr, err)
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &verify):
		msg += " (if a proxy or relay re-signs TLS, pass its CA with --ca-file)"
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		msg += fmt.Sprintf(" (timed out after %s)", u.dialer.timeout)
	}
	return msg
}

// hostPort gives target's host:port, with the scheme's port when none is
// written.
func hostPort(target *url.URL) string {
	port := target.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(target.Scheme, "http") {
			port = "80"
		}
	}
	return net.JoinHostPort(target.Hostname(), port)
}

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
)

// Health is the outcome of one probe of a route.
type Health struct {
	Route     string        `json:"route"`
	Up        bool          `json:"up"`
	Connect   time.Duration `json:"connect"`   // TCP to the proxy, or to the target for direct routes (TLS to an https:// proxy included)
	Handshake time.Duration `json:"handshake"` // SOCKS5 or CONNECT to the target; 0 for direct
	TLS       time.Duration `json:"tls"`       // TLS handshake with the target; 0 for an http:// target
	Latency   time.Duration `json:"latency"`   // the sum of the three
	Err       string        `json:"err,omitempty"`
	Checked   time.Time     `json:"checked"`
}

// Probe opens one fresh connection to target through the route, times each
// step, and closes it. It never uses or disturbs the Transport's pool.
// A failure sets Err to a message with credentials masked; steps that
// finished keep their times.
func (u *Upstream) Probe(ctx context.Context, target *url.URL) Health {
	h := Health{Route: u.Route.Name}
	if target == nil || target.Host == "" {
		h.Err = "no target to probe"
		h.Checked = time.Now()
		return h
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
		return h
	}
	defer c.Close()

	if strings.EqualFold(target.Scheme, "https") {
		conf := u.tls.Clone()
		conf.ServerName = target.Hostname()
		conf.NextProtos = []string{"h2", "http/1.1"}
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
			return h
		}
	}
	h.Latency = h.Connect + h.Handshake + h.TLS
	h.Up = true
	h.Checked = time.Now()
	return h
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

package route

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// TLS with the API host is Ferry's own (the Transport's DialTLSContext),
// not the Transport's, for two things the Transport cannot do: choose the
// key shares per route and retry a reset post-quantum handshake with
// classic shares within the same attempt, and offer HTTP/1.1 only once a
// route learnt that its proxy breaks HTTP/2.

// classicCurves are the key shares offered in tls_key_share=classic: no
// X25519MLKEM768, whose larger ClientHello some middleboxes reset.
var classicCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}

// offerPQ reports whether the next handshake offers Go's post-quantum
// default.
func (u *Upstream) offerPQ() bool {
	switch u.Route.KeyShare {
	case KeySharePQ:
		return true
	case KeyShareClassic:
		return false
	}
	return !u.learn.classic()
}

// nextProtos is the ALPN list for the route's HTTP setting and what it
// learnt.
func (u *Upstream) nextProtos() []string {
	switch {
	case u.Route.HTTP == HTTP1, u.Route.HTTP == "" && u.learn.http1():
		return []string{"http/1.1"}
	case u.Route.HTTP == HTTP2:
		return []string{"h2"}
	}
	return []string{"h2", "http/1.1"}
}

// tlsConfig is the config of one handshake with serverName.
func (u *Upstream) tlsConfig(serverName string, pq bool) *tls.Config {
	conf := u.tls.Clone()
	conf.ServerName = serverName
	conf.NextProtos = u.nextProtos()
	if !pq {
		conf.CurvePreferences = classicCurves
	}
	return conf
}

// dialTLS is the Transport's DialTLSContext: a tunnel through the route,
// then TLS with the API host.
func (u *Upstream) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	pq := u.offerPQ()
	c, err := u.handshake(ctx, network, addr, pq)
	if err == nil {
		if pq && u.Route.KeyShare == "" {
			u.learn.pqOK()
		}
		return c, nil
	}
	if !pq || u.Route.KeyShare != "" || !isReset(err) || ctx.Err() != nil {
		return nil, err
	}
	// A reset of a post-quantum ClientHello: try classic shares at once,
	// within the same attempt, so the client sees only the delay.
	c, err2 := u.handshake(ctx, network, addr, false)
	if err2 != nil {
		return nil, err
	}
	if u.learn.pqReset() {
		u.log("route learnt classic TLS key shares after post-quantum handshake resets", "route", u.Route.Name)
	}
	return c, nil
}

// handshake dials addr through the route and completes TLS, bounded by
// the route's connect timeout.
func (u *Upstream) handshake(ctx context.Context, network, addr string, pq bool) (*tls.Conn, error) {
	raw, err := u.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	hctx, cancel := context.WithTimeout(ctx, u.dialer.timeout)
	defer cancel()
	tc := tls.Client(raw, u.tlsConfig(host, pq))
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, &TLSError{Route: u.Route.Name, Target: addr, PQ: pq, Err: err}
	}
	return tc, nil
}

// TLSError is a failed TLS handshake with the API host through a route.
type TLSError struct {
	Route  string
	Target string
	PQ     bool // the ClientHello offered a post-quantum key share
	Err    error
}

func (e *TLSError) Error() string {
	share := "classic"
	if e.PQ {
		share = "post-quantum"
	}
	return fmt.Sprintf("route %q: TLS handshake with %s (%s key share) failed: %v", e.Route, e.Target, share, e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// isReset: the peer (or a middlebox) dropped the connection mid-handshake.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE)
}

// isH2ProtocolError recognises an HTTP/2 PROTOCOL_ERROR, from RST_STREAM
// or GOAWAY. net/http's bundled HTTP/2 exports no error types
// (http2StreamError, http2GoAwayError are unexported), so the error code's
// name in the message is the only mark; it is HTTP/2's own constant
// name (RFC 9113 §7), not prose that could be reworded.
func isH2ProtocolError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "PROTOCOL_ERROR")
}

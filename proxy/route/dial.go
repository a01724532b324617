package route

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/proxy"
)

// dialer is an Upstream's DialContext: one per route, safe for concurrent
// use.
type dialer struct {
	route   string
	spec    spec
	net     *net.Dialer
	timeout time.Duration
	tlsConf *tls.Config // the target's; an https:// proxy gets a clone with its own ServerName
}

// trace lets a probe time the phases of one dial; the Transport's dials
// carry none.
type trace struct {
	connected time.Time // TCP (and TLS to an https:// proxy) to the first hop done
}

type traceKey struct{}

func withTrace(ctx context.Context, t *trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

func markConnected(ctx context.Context) {
	if t, ok := ctx.Value(traceKey{}).(*trace); ok {
		t.connected = time.Now()
	}
}

// DialContext reaches address through the route. The target's host name is
// never resolved here when a proxy is used: SOCKS5 gets it as a domain name
// (socks5h) and CONNECT names it, because local DNS is often poisoned.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var (
		c   net.Conn
		err error
	)
	switch d.spec.kind {
	case kindDirect:
		c, err = d.dialDirect(ctx, network, address)
	case kindSOCKS5:
		c, err = d.dialSOCKS5(ctx, network, address)
	default:
		c, err = d.dialCONNECT(ctx, network, address)
	}
	if err != nil {
		return nil, d.fail(parent, ctx, address, err)
	}
	return c, nil
}

// stageError carries the stage a step of the dial failed in up to fail,
// through whatever wrapping (x/net's net.OpError) lies between.
type stageError struct {
	stage Stage
	err   error
}

func (e *stageError) Error() string { return e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

// fail turns err into a *DialError. A deadline of our own ConnectTimeout
// becomes StageConnectTimeout whatever step it interrupted; the caller
// cancelling keeps the step's stage and its context error.
func (d *dialer) fail(parent, ctx context.Context, address string, err error) error {
	de := &DialError{Route: d.route, Target: address}
	if d.spec.kind != kindDirect {
		de.Proxy = d.spec.masked
	}
	var se *stageError
	if errors.As(err, &se) {
		de.Stage = se.stage
		de.Err = se.err
	} else {
		de.Stage = StageProxyHandshake
		de.Err = err
	}
	if perr := parent.Err(); perr != nil {
		// Our own deadline trick turns a cancel into "i/o timeout": make
		// the caller's reason reachable with errors.Is.
		if !errors.Is(de.Err, perr) {
			de.Err = fmt.Errorf("%w (%w)", perr, de.Err)
		}
		return de
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(de.Err) {
		de.Stage = StageConnectTimeout
		if !errors.Is(de.Err, context.DeadlineExceeded) {
			de.Err = fmt.Errorf("%w (after %s)", de.Err, d.timeout)
		} else {
			de.Err = fmt.Errorf("no connection after %s: %w", d.timeout, de.Err)
		}
	}
	return de
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tcpStage names the failure of a plain TCP dial to a host: a name that
// does not resolve is DNS, everything else belongs to the step (reaching the
// proxy, or the target when direct).
func tcpStage(err error, otherwise Stage) Stage {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return StageDNS
	}
	return otherwise
}

func (d *dialer) dialDirect(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.net.DialContext(ctx, network, address)
	if err != nil {
		return nil, &stageError{tcpStage(err, StageTargetConnect), err}
	}
	markConnected(ctx)
	// No quick ACKs here: the API's own front ends write without Nagle's
	// delay (quickack_linux.go), and a loopback upstream would only pay
	// the setsockopt per read.
	return c, nil
}

// dialProxy opens the TCP connection to the proxy itself.
func (d *dialer) dialProxy(ctx context.Context) (net.Conn, error) {
	c, err := d.net.DialContext(ctx, "tcp", d.spec.addr)
	if err != nil {
		return nil, &stageError{tcpStage(err, StageProxyConnect), err}
	}
	return quickAck(c), nil
}

// contextDialer adapts a function to proxy.ContextDialer.
type contextDialer func(ctx context.Context, network, address string) (net.Conn, error)

func (f contextDialer) Dial(network, address string) (net.Conn, error) {
	return f(context.Background(), network, address)
}

func (f contextDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

func (d *dialer) dialSOCKS5(ctx context.Context, network, address string) (net.Conn, error) {
	var auth *proxy.Auth
	if d.spec.hasAuth {
		auth = &proxy.Auth{User: d.spec.user, Password: d.spec.pass}
	}
	forward := contextDialer(func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := d.dialProxy(ctx)
		if err == nil {
			markConnected(ctx)
		}
		return c, err
	})
	sd, err := proxy.SOCKS5("tcp", d.spec.addr, auth, forward)
	if err != nil {
		return nil, &stageError{StageProxyHandshake, err}
	}
	// x/net's SOCKS5 dialer always implements ContextDialer; without the
	// context a stuck proxy would hold the dial past ConnectTimeout.
	cd, ok := sd.(proxy.ContextDialer)
	if !ok {
		return nil, &stageError{StageProxyHandshake, errors.New("SOCKS5 dialer does not take a context")}
	}
	c, err := cd.DialContext(ctx, network, address)
	if err != nil {
		var se *stageError
		if errors.As(err, &se) {
			return nil, err
		}
		stage := socksStage(err)
		if stage == StageProxyAuth || stage == StageTargetConnect {
			err = fmt.Errorf("%w: %w", ErrSOCKSReply, err)
		}
		return nil, &stageError{stage, err}
	}
	return c, nil
}

// socksStage classifies a SOCKS5 handshake failure. x/net reports the
// proxy's reply codes and auth failures only as strings from
// golang.org/x/net/internal/socks (client.go, socks.go), which we cannot
// import or match by type; this is the one place that reads them, and it
// falls back to StageProxyHandshake if x/net ever rewords them.
func socksStage(err error) Stage {
	if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return StageConnectTimeout
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "username/password authentication failed"),
		strings.Contains(msg, "no acceptable authentication methods"),
		strings.Contains(msg, "invalid username/password"):
		return StageProxyAuth
	// RFC 1928 replies 0x01 and 0x03-0x06: the proxy could not reach or
	// resolve the target. Proxies (microsocks, dante) answer 0x01 when the
	// target's name does not resolve on their side.
	case strings.Contains(msg, "general SOCKS server failure"),
		strings.Contains(msg, "network unreachable"),
		strings.Contains(msg, "host unreachable"),
		strings.Contains(msg, "connection refused"),
		strings.Contains(msg, "TTL expired"):
		return StageTargetConnect
	}
	return StageProxyHandshake
}

func (d *dialer) dialCONNECT(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.dialProxy(ctx)
	if err != nil {
		return nil, err
	}
	if d.spec.kind == kindHTTPS {
		conf := d.tlsConf.Clone()
		conf.ServerName = d.spec.host
		// The proxy speaks HTTP/1.1 CONNECT; h2 is negotiated later, with
		// the target, inside the tunnel.
		conf.NextProtos = []string{"http/1.1"}
		tc := tls.Client(c, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, &stageError{StageProxyHandshake, fmt.Errorf("TLS with proxy %s: %w", d.spec.addr, err)}
		}
		c = tc
	}
	markConnected(ctx)
	tunnel, err := d.connect(ctx, c, address)
	if err != nil {
		c.Close()
		return nil, err
	}
	return tunnel, nil
}

// aLongTimeAgo unblocks pending reads and writes when the context ends.
var aLongTimeAgo = time.Unix(1, 0)

// maxConnectAnswer bounds a CONNECT answer's status line and headers.
const maxConnectAnswer = 64 << 10

// connect sends CONNECT over c and reads the proxy's answer.
func (d *dialer) connect(ctx context.Context, c net.Conn, address string) (conn net.Conn, err error) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(aLongTimeAgo) })
	defer func() {
		if !stop() && err == nil {
			// The context ended while the answer arrived: the deadline in
			// the past may already be set, so give up rather than hand out
			// a poisoned conn.
			err = &stageError{StageProxyHandshake, ctx.Err()}
		}
	}()

	var b strings.Builder
	fmt.Fprintf(&b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", address, address)
	if d.spec.hasAuth {
		cred := base64.StdEncoding.EncodeToString([]byte(d.spec.user + ":" + d.spec.pass))
		b.WriteString("Proxy-Authorization: Basic " + cred + "\r\n")
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		return nil, &stageError{StageProxyHandshake, fmt.Errorf("send CONNECT: %w", err)}
	}

	// The answer is read through a limit: a hostile proxy sending header
	// lines without end took Ferry to 561 MB (issue 14). Bytes the target
	// sent early are still read from c itself once the answer is parsed.
	lr := &io.LimitedReader{R: c, N: maxConnectAnswer}
	br := bufio.NewReader(lr)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		if lr.N <= 0 {
			err = fmt.Errorf("the proxy's answer is longer than %d KiB", maxConnectAnswer>>10)
		}
		return nil, &stageError{StageProxyHandshake, fmt.Errorf("read CONNECT answer: %w", err)}
	}
	resp.Body.Close() // a 2xx CONNECT answer has no body; a refusal's body is not needed
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &stageError{connectStage(resp.StatusCode), fmt.Errorf("%w: %s", ErrProxyStatus, resp.Status)}
	}
	if n := br.Buffered(); n > 0 {
		// The proxy may have sent the target's first bytes along with its
		// answer: they sit in br and must not be lost.
		early, _ := br.Peek(n)
		return &prefixConn{Conn: c, prefix: append([]byte(nil), early...)}, nil
	}
	return c, nil
}

// connectStage maps a CONNECT refusal to a stage. 502/503/504 say the proxy
// could not reach the target; tinyproxy answers 500 "Unable to connect" for
// the same reason, and 401 rather than 407 to wrong credentials.
func connectStage(status int) Stage {
	switch status {
	case http.StatusProxyAuthRequired, http.StatusUnauthorized:
		return StageProxyAuth
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return StageTargetConnect
	}
	return StageProxyHandshake
}

// prefixConn replays bytes read past the CONNECT answer before reading the
// connection again.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

package route

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// tlsFront terminates TLS on a loopback port and relays each connection to
// backend, turning tinyproxy into an https:// proxy.
func tlsFront(t *testing.T, cert tls.Certificate, backend string) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { io.Copy(b, c); b.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, b)
			}()
		}
	}()
	return l.Addr().String()
}

func TestHTTPSProxy(t *testing.T) {
	api := startFakeAPI(t)
	tp := testsupport.StartTinyproxy(t, "carol", "pw")
	front := tlsFront(t, api.certificate(t), tp.Addr)
	for _, tc := range []struct {
		name, url string
		stage     Stage
	}{
		{"good", "https://carol:pw@" + front, ""},
		{"wrong password", "https://carol:nope@" + front, StageProxyAuth},
		// Speaking plain HTTP to a TLS port gets garbage back.
		{"plain http to a TLS port", "http://carol:pw@" + front, StageProxyHandshake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := NewUpstream(Route{Name: tc.name, URL: tc.url}, DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer u.Transport.CloseIdleConnections()
			resp, body, err := get(t, u, api.URL.String()+"/v1/models")
			if tc.stage == "" {
				if err != nil {
					t.Fatal(err)
				}
				api.assertH2(t, resp, body)
				return
			}
			var de *DialError
			if !errors.As(err, &de) || de.Stage != tc.stage {
				t.Fatalf("got %v, want DialError at %q", err, tc.stage)
			}
		})
	}
}

func TestHTTPSProxyUntrustedCertificate(t *testing.T) {
	api := startFakeAPI(t)
	tp := testsupport.StartTinyproxy(t, "", "")
	front := tlsFront(t, api.certificate(t), tp.Addr)
	u, err := NewUpstream(Route{Name: "tls", URL: "https://" + front}, DialOptions{ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.DialContext(testCtx(t), "tcp", api.URL.Host)
	var de *DialError
	if !errors.As(err, &de) || de.Stage != StageProxyHandshake {
		t.Fatalf("got %v, want DialError at %q", err, StageProxyHandshake)
	}
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		t.Fatalf("the certificate error is not reachable with errors.As: %v", err)
	}
}

// silentListener accepts connections and never answers: a proxy that hangs.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	return l.Addr().String()
}

func TestConnectTimeout(t *testing.T) {
	addr := silentListener(t)
	for _, scheme := range []string{"socks5", "http"} {
		t.Run(scheme, func(t *testing.T) {
			u, err := NewUpstream(Route{Name: "slow", URL: scheme + "://" + addr}, DialOptions{ConnectTimeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = u.DialContext(testCtx(t), "tcp", "api.anthropic.com:443")
			var de *DialError
			if !errors.As(err, &de) || de.Stage != StageConnectTimeout {
				t.Fatalf("got %v, want DialError at %q", err, StageConnectTimeout)
			}
			if !de.Timeout() {
				t.Fatal("Timeout() is false")
			}
		})
	}
}

func TestCallerCancelIsNotATimeout(t *testing.T) {
	addr := silentListener(t)
	u, err := NewUpstream(Route{Name: "slow", URL: "http://" + addr}, DialOptions{ConnectTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err = u.DialContext(ctx, "tcp", "api.anthropic.com:443")
	var de *DialError
	if !errors.As(err, &de) || de.Stage == StageConnectTimeout {
		t.Fatalf("got %v, want a DialError that is not a timeout", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("context.Canceled is not reachable: %v", err)
	}
}

// TestSOCKS5SendsNamesUnresolved checks socks5h semantics with a minimal
// SOCKS5 server that records the address type it was asked for.
func TestSOCKS5SendsNamesUnresolved(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		io.ReadFull(c, buf[:3]) // ver, nmethods=1, method
		c.Write([]byte{5, 0})
		io.ReadFull(c, buf[:5]) // ver cmd rsv atyp len
		if buf[3] != 3 {
			got <- "address type " + string(rune('0'+buf[3]))
			return
		}
		n := int(buf[4])
		io.ReadFull(c, buf[:n+2])
		got <- string(buf[:n])
		c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 80})
	}()
	u, err := NewUpstream(Route{Name: "s", URL: "socks5://" + l.Addr().String()}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.DialContext(testCtx(t), "tcp", "api.anthropic.com:443")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if name := <-got; name != "api.anthropic.com" {
		t.Fatalf("proxy was asked for %q, want the unresolved name", name)
	}
}

// TestCONNECTKeepsEarlyBytes: a proxy may send the target's first bytes in
// the same packet as its 200; they must reach the caller.
func TestCONNECTKeepsEarlyBytes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	auth := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		auth <- req.Method + " " + req.Host + " " + req.Header.Get("Proxy-Authorization")
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\nhello from target")
		time.Sleep(time.Second)
	}()
	u, err := NewUpstream(Route{Name: "h", URL: "http://al%3Ace:p@" + l.Addr().String()}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.DialContext(testCtx(t), "tcp", "api.anthropic.com:443")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 64)
	n, _ := io.ReadAtLeast(c, b, len("hello from target"))
	if string(b[:n]) != "hello from target" {
		t.Fatalf("read %q after CONNECT, want the early bytes", b[:n])
	}
	// "al:ce:p" in base64: the user name's escaped colon survives.
	if got := <-auth; got != "CONNECT api.anthropic.com:443 Basic YWw6Y2U6cA==" {
		t.Fatalf("proxy saw %q", got)
	}
	if strings.Contains(u.Masked(), ":p@") {
		t.Fatalf("Masked leaks the password: %s", u.Masked())
	}
}

// A hostile HTTP proxy answering CONNECT with header lines without end
// took Ferry to 561 MB (issue 14): the answer is read through 64 KiB.
func TestCONNECTAnswerIsBounded(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		// 4 MB of headers, then the end of the answer: unbounded reading
		// would take it all and succeed.
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n")
		line := "X-Junk: " + strings.Repeat("a", 1000) + "\r\n"
		for i := 0; i < 4000; i++ {
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
		io.WriteString(c, "\r\n")
	}()
	u, err := NewUpstream(Route{Name: "h", URL: "http://" + l.Addr().String()}, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.DialContext(testCtx(t), "tcp", "api.anthropic.com:443")
	if err == nil {
		c.Close()
		t.Fatal("a 4 MB CONNECT answer was accepted")
	}
	if !strings.Contains(err.Error(), "longer than 64 KiB") {
		t.Fatalf("err = %v", err)
	}
}

package route

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// quickAckOn reads the socket's TCP_QUICKACK: 1 while it acknowledges at
// once, 0 once Linux has made it delay acknowledgements.
func quickAckOn(t *testing.T, c net.Conn) int {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

// pingPong trades small messages as a request and its answer do: the
// pattern after which Linux delays acknowledgements (pingpong mode), the
// delay a Nagle proxy then waits on before its next small write.
func pingPong(t *testing.T, c net.Conn) {
	t.Helper()
	b := make([]byte, 1)
	for range 8 {
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
	}
}

// A connection to a route's proxy acknowledges at once after each read,
// where a plain socket has gone to delayed acknowledgements by then.
func TestProxyConnsAcknowledgeAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	plain, err := (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	pingPong(t, plain)
	if quickAckOn(t, plain) != 0 {
		// The control: without it the test below proves nothing.
		t.Skip("this kernel does not delay acknowledgements after a ping-pong")
	}

	// The echo server stands for the proxy: dialProxy is the first hop of
	// every socks5:// and http(s):// route.
	u, err := NewUpstream(Route{Name: "Office", URL: "socks5://" + ln.Addr().String()}, DialOptions{ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := u.dialer.dialProxy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, ok := c.(*quickAckConn)
	if !ok {
		t.Fatalf("the proxy connection is a %T", c)
	}
	pingPong(t, q)
	if quickAckOn(t, q.Conn) != 1 {
		t.Error("a proxy connection delays its acknowledgements after a ping-pong")
	}
}

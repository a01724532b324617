package testsupport

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// X25519MLKEM768 is the post-quantum hybrid key share Go offers by default
// (TLS group 0x11EC).
const X25519MLKEM768 = 0x11ec

// PQResetter is a TCP relay in front of a TLS server that resets (TCP RST)
// every connection whose ClientHello offers an X25519MLKEM768 key share,
// as middleboxes on some paths from mainland China are reported to do, and
// relays every other connection untouched.
type PQResetter struct {
	Addr string

	resets atomic.Int64
	passed atomic.Int64
	stop   func()
}

// Resets counts the connections reset for a post-quantum ClientHello;
// Passed those relayed.
func (r *PQResetter) Resets() int64 { return r.resets.Load() }
func (r *PQResetter) Passed() int64 { return r.passed.Load() }

// StartPQResetter starts the relay on 127.0.0.1 in front of target
// (host:port); it stops when the test ends.
func StartPQResetter(t testing.TB, target string) *PQResetter {
	t.Helper()
	r := &PQResetter{}
	r.stop = serveRelay(t, func(ctx context.Context, c net.Conn) {
		hello, err := readRecord(c)
		if err != nil {
			return
		}
		if pq, _ := OffersKeyShare(hello, X25519MLKEM768); pq {
			r.resets.Add(1)
			resetConn(c)
			return
		}
		r.passed.Add(1)
		relay(ctx, c, target, hello)
	}, &r.Addr)
	return r
}

// Stop closes the relay and every connection through it.
func (r *PQResetter) Stop() { r.stop() }

// readRecord reads one TLS record (header included) from c.
func readRecord(c net.Conn) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(startTimeout))
	defer c.SetReadDeadline(time.Time{})
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[3:5]))
	rec := make([]byte, 5+n)
	copy(rec, hdr)
	if _, err := io.ReadFull(c, rec[5:]); err != nil {
		return nil, err
	}
	return rec, nil
}

var errNotHello = errors.New("not a TLS ClientHello")

// OffersKeyShare reports whether the TLS record rec (a ClientHello in one
// record, as Go, browsers and curl send it) carries a key share of group.
func OffersKeyShare(rec []byte, group uint16) (bool, error) {
	if len(rec) < 5 || rec[0] != 0x16 {
		return false, errNotHello
	}
	b := rec[5:]
	if len(b) < 4 || b[0] != 1 {
		return false, errNotHello
	}
	b = b[4:]
	skip := func(n int) bool {
		if len(b) < n {
			return false
		}
		b = b[n:]
		return true
	}
	vec := func(lenBytes int) bool {
		if len(b) < lenBytes {
			return false
		}
		n := 0
		for i := range lenBytes {
			n = n<<8 | int(b[i])
		}
		return skip(lenBytes + n)
	}
	if !skip(2+32) || !vec(1) || !vec(2) || !vec(1) || len(b) < 2 {
		return false, errNotHello
	}
	exts := b[2:]
	for len(exts) >= 4 {
		typ := binary.BigEndian.Uint16(exts)
		n := int(binary.BigEndian.Uint16(exts[2:]))
		if len(exts) < 4+n {
			return false, errNotHello
		}
		data := exts[4 : 4+n]
		exts = exts[4+n:]
		if typ != 0x0033 || len(data) < 2 { // key_share
			continue
		}
		shares := data[2:]
		for len(shares) >= 4 {
			g := binary.BigEndian.Uint16(shares)
			kl := int(binary.BigEndian.Uint16(shares[2:]))
			if g == group {
				return true, nil
			}
			if len(shares) < 4+kl {
				break
			}
			shares = shares[4+kl:]
		}
	}
	return false, nil
}

// resetConn closes c with a TCP RST instead of a FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// relay dials target, sends it first, and copies both ways until either
// side ends.
func relay(ctx context.Context, c net.Conn, target string, first []byte) {
	d := net.Dialer{Timeout: startTimeout}
	up, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	stop := context.AfterFunc(ctx, func() { up.Close(); c.Close() })
	defer stop()
	if _, err := up.Write(first); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		_, err := io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok && err == nil {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// serveRelay accepts on a new loopback listener (its address written to
// addr) and runs handle per connection; the returned stop (also run at the
// test's end) closes the listener and every connection, and waits.
func serveRelay(t testing.TB, handle func(ctx context.Context, c net.Conn), addr *string) func() {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("relay listen: %v", err)
	}
	*addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				stop := context.AfterFunc(ctx, func() { c.Close() })
				defer stop()
				handle(ctx, c)
			})
		}
	})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			ln.Close()
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}

package testsupport

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// H2Resetter is an HTTPS endpoint that plays a proxy breaking HTTP/2
// inside a CONNECT tunnel: over HTTP/2 it answers every stream with
// response headers, one SSE ping frame, then RST_STREAM PROTOCOL_ERROR
// (what users see as "stream ID 1; PROTOCOL_ERROR"). Over HTTP/1.1 it
// answers the stream scenario in full. TLS runs end to end through a
// route's proxy, so only the endpoint itself can send RST_STREAM; it is
// written with x/net/http2's Framer because net/http's server never sends
// a PROTOCOL_ERROR on purpose.
type H2Resetter struct {
	Addr string

	h2Streams atomic.Int64
	h1        atomic.Int64
	stop      func()
}

// H2Streams counts the HTTP/2 streams reset; HTTP1 the HTTP/1.1 requests
// answered.
func (r *H2Resetter) H2Streams() int64 { return r.h2Streams.Load() }
func (r *H2Resetter) HTTP1() int64     { return r.h1.Load() }

// StartH2Resetter serves on 127.0.0.1 with cert (the fake API's, so a
// client trusting the fake's CA trusts it); it stops when the test ends.
func StartH2Resetter(t testing.TB, cert tls.Certificate) *H2Resetter {
	t.Helper()
	r := &H2Resetter{}
	body, err := Body(ScenarioStream)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	r.stop = serveRelay(t, func(ctx context.Context, c net.Conn) {
		tc := tls.Server(c, conf)
		hctx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			return
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			r.serveH2(tc)
			return
		}
		r.serveH1(tc, body)
	}, &r.Addr)
	return r
}

// Stop closes the endpoint and its connections.
func (r *H2Resetter) Stop() { r.stop() }

func (r *H2Resetter) serveH2(c net.Conn) {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		return
	}
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.HeadersFrame:
			id := f.StreamID
			hbuf.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "text/event-stream"})
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf.Bytes(), EndHeaders: true}); err != nil {
				return
			}
			if err := fr.WriteData(id, false, []byte("event: ping\ndata: {\"type\": \"ping\"}\n\n")); err != nil {
				return
			}
			r.h2Streams.Add(1)
			if err := fr.WriteRSTStream(id, http2.ErrCodeProtocol); err != nil {
				return
			}
		}
	}
}

func (r *H2Resetter) serveH1(c net.Conn, body []byte) {
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			io.Copy(io.Discard, req.Body)
			r.h1.Add(1)
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(body)
		}),
		ReadHeaderTimeout: startTimeout,
		IdleTimeout:       time.Minute,
	}
	ln := &oneConnListener{c: c, done: make(chan struct{})}
	go func() { <-ln.done; srv.Close() }()
	srv.Serve(ln)
}

// oneConnListener hands one connection to an http.Server, then blocks
// until that connection is closed.
type oneConnListener struct {
	c    net.Conn
	used atomic.Bool
	done chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if l.used.CompareAndSwap(false, true) {
		return &closeNotify{Conn: l.c, done: l.done}, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error   { return nil }
func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

type closeNotify struct {
	net.Conn
	closed atomic.Bool
	done   chan struct{}
}

func (c *closeNotify) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		close(c.done)
	}
	return c.Conn.Close()
}

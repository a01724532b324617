package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// attempts sends the request upstream until an attempt gets response
// headers the retry policy accepts, or the policy gives up. Nothing has
// gone to the client yet, so a failed attempt can be followed by another
// (a retry, or a failover to the next candidate route). It returns the
// response to relay or Ferry's error for the last failure.
func (p *Proxy) attempts(x *exchange, out *Outgoing) (*Response, *Error) {
	req := route.Request{Header: out.Header, Credential: out.Credential(), Session: out.Session}
	cands, err := p.routes.Candidates(req)
	if err != nil || len(cands) == 0 {
		if err == nil {
			err = route.ErrNoRoute
		}
		return nil, &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: err,
			Message: "no usable upstream route: " + redact(err.Error())}
	}
	ctx := out.attemptCtx
	if ctx == nil {
		ctx = x.r.Context()
	}
	ci := 0
	for n := 1; ; n++ {
		up := cands[ci]
		x.rec.Route = up.Route.Name
		res, ar, ferr := p.attempt(ctx, x, out, up)
		x.attempts = append(x.attempts, ar)
		p.routes.Report(req, up, route.Outcome{Class: ar.Class, Status: ar.Status, FirstByte: ar.Elapsed, Org: orgOf(ar.Header)})
		if p.opts.Retry == nil || out.Streamed || x.r.Context().Err() != nil && out.attemptCtx == nil {
			return res, ferr
		}
		if res != nil && ar.Class == "" {
			return res, nil
		}
		d := p.opts.Retry.Decide(out, n, ar, time.Since(x.start))
		if !d.Again {
			return res, ferr
		}
		if res != nil {
			// A retryable status: its body is dropped unread.
			res.Body.Close()
		}
		if d.Failover && len(cands) > 1 {
			ci = (ci + 1) % len(cands)
		}
		if d.Wait > 0 {
			t := time.NewTimer(d.Wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, errorFor(x.r.Context(), ctx, context.Cause(ctx), p.where(up))
			case <-t.C:
			}
		}
	}
}

// orgOf is the account an answer names, bounded: it keys sticky routes.
func orgOf(h http.Header) string {
	return boundedHeader(h.Get("Anthropic-Organization-Id"), 128)
}

// retryableStatus are the upstream answers a retry policy is asked about;
// every other status is relayed at once.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

// attempt sends the request once through up and waits for the response
// headers, under the first-byte clock. On success the response's body is
// watched by the idle clock until the relay closes it. A response with a
// retryable status is returned with ar.Class set to ClassStatus, so the
// policy can decide; the caller relays or closes it.
func (p *Proxy) attempt(parent context.Context, x *exchange, out *Outgoing, up *route.Upstream) (*Response, AttemptResult, *Error) {
	began := time.Now()
	ar := AttemptResult{Route: up.Route.Name}
	ctx, cancel := context.WithCancelCause(parent)
	wd := newWatchdog(cancel, p.opts.IdleTimeout)

	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }}
	u := p.targetURL(x.r.URL)
	req := &http.Request{
		Method:     out.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     out.Header,
		Host:       u.Host,
	}
	switch {
	case x.upload != nil:
		req.Body = &watchedBody{deadlineBody: x.upload, wd: wd, firstByte: p.opts.FirstByteTimeout}
		req.ContentLength = x.r.ContentLength
		wd.arm(p.opts.IdleTimeout, ErrIdleTimeout)
	case len(out.Body) > 0:
		body := out.Body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		// Lets the transport resend on a fresh connection when a pooled
		// one turns out dead before anything was written.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if out.Stream {
			// road.stream_first_byte_timeout: a streaming request's headers
			// come as soon as the API starts (message_start), so a long
			// wait means a dead road, not a long think.
			wd.arm(p.opts.StreamFirstByteTimeout, ErrStreamFirstByteTimeout)
		} else {
			wd.arm(p.opts.FirstByteTimeout, ErrFirstByteTimeout)
		}
	default:
		if out.Method == http.MethodPost || out.Method == http.MethodPut || out.Method == http.MethodPatch {
			req.Body = http.NoBody
		}
		wd.arm(p.opts.FirstByteTimeout, ErrFirstByteTimeout)
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))

	res, err := up.RoundTrip(req)
	ar.Elapsed = time.Since(began)
	if err != nil {
		wd.stop()
		cause := context.Cause(ctx)
		cancel(nil)
		ar.Sent, ar.Err = sent.Load(), err
		if x.upload != nil && x.upload.stalledUpload() {
			return nil, ar, uploadStalled(p.opts.IdleTimeout)
		}
		ar.Class = failureClass(err, cause)
		return nil, ar, errorFor(x.r.Context(), ctx, err, p.where(up))
	}
	wd.answered.Store(true)
	if out.Path == "/v1/messages" && sse.IsEventStream(res.Header.Get("Content-Type")) {
		// road.stream_idle_timeout: the API pings an event stream every
		// few seconds, so a long silence is a stalled road.
		wd.idle.Store(int64(p.opts.StreamIdleTimeout))
		wd.arm(p.opts.StreamIdleTimeout, ErrStreamStalled)
	} else {
		wd.arm(p.opts.IdleTimeout, ErrIdleTimeout)
	}
	ar.Sent, ar.Status, ar.Header = true, res.StatusCode, res.Header
	if retryableStatus(res.StatusCode) {
		ar.Class = ClassStatus
	}
	if res.StatusCode == http.StatusTooManyRequests && p.opts.Retry != nil {
		// A spend or usage limit says so only in its body: the policy
		// reads the message, the client still gets every byte.
		res.Body, ar.ErrorBody = peekErrorBody(res.Body)
	}
	return &Response{
		Status:    res.StatusCode,
		Header:    res.Header,
		Body:      &watchedResponse{rc: res.Body, wd: wd, cancel: cancel},
		Upstream:  up,
		FirstByte: time.Since(x.start),
		ctx:       ctx,
		length:    res.ContentLength,
		trailer:   res.Trailer,
	}, ar, nil
}

// failureClass names the road failure of an attempt that got no headers.
func failureClass(err, cause error) string {
	if errors.Is(cause, ErrFirstByteTimeout) || errors.Is(err, ErrFirstByteTimeout) {
		return ClassFirstByte
	}
	var de *route.DialError
	if errors.As(err, &de) {
		switch de.Stage {
		case route.StageProxyAuth, route.StageProxyHandshake:
			return ClassProxyHandshake
		}
		return ClassConnect
	}
	var te *tls.CertificateVerificationError
	if errors.As(err, &te) {
		return ClassTLS
	}
	var re tls.RecordHeaderError
	if errors.As(err, &re) || isTLSHandshake(err) {
		return ClassTLS
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return ClassReset
	}
	return ClassConnect
}

// isTLSHandshake reports an error from the TLS handshake with the API
// host: Go's transport wraps it in no exported type, but every such error
// passes through tls.Conn.Handshake, whose alerts are tls.AlertError.
func isTLSHandshake(err error) bool {
	var ae tls.AlertError
	return errors.As(err, &ae)
}

// watchedResponse is an upstream response body on its way to the client:
// every read restarts the idle clock; Close stops it and ends the
// attempt's context.
type watchedResponse struct {
	rc     io.ReadCloser
	wd     *watchdog
	cancel context.CancelCauseFunc
}

func (b *watchedResponse) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.wd.kick()
	}
	return n, err
}

func (b *watchedResponse) Close() error {
	b.wd.stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// maxPeek bounds what is read of a 429's body before deciding on it:
// Anthropic's error bodies are a few hundred bytes.
const maxPeek = 8 << 10

// peekErrorBody reads the start of an error body and returns a body
// that still yields every byte, and that start.
func peekErrorBody(body io.ReadCloser) (io.ReadCloser, []byte) {
	head, err := io.ReadAll(io.LimitReader(body, maxPeek))
	rest := io.MultiReader(bytes.NewReader(head), body)
	if err != nil {
		rest = io.MultiReader(bytes.NewReader(head), errReader{err})
	}
	return struct {
		io.Reader
		io.Closer
	}{rest, body}, head
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

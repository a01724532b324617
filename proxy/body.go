package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/storage"
)

// largeEndpoint reports whether path's bodies may be large and are streamed
// upstream rather than read whole: files (up to 500 MB) and batches.
func largeEndpoint(path string) bool {
	return hasPathPrefix(path, "/v1/files") || hasPathPrefix(path, "/v1/messages/batches")
}

func hasPathPrefix(path, prefix string) bool {
	return path == prefix || (strings.HasPrefix(path, prefix) && path[len(prefix)] == '/')
}

// readBody reads the whole request body, refusing one over limit without
// reading it to the end: a declared Content-Length is checked first, and a
// chunked body is cut by MaxBytesReader, which also tells the server to
// close the connection rather than drain the rest.
//
// Reading the body whole before forwarding is also what keeps HTTP/1.1
// streams whole: the server closes an unread request body once the handler
// starts writing (golang/go#40747), which cut 0.2–2 % of SSE streams in a
// bare ReverseProxy.
//
// The buffer grows as bytes arrive, never from the declared length alone:
// 16 connections each declaring 32 MB and sending nothing held 550 MB
// (issue 14). What it holds counts against the process's buffer budget
// (see budget.go) until the request ends; past the budget the request gets
// 529 overloaded_error with retry-after: 1. idle bounds the silence
// between two reads, not the whole upload.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, idle time.Duration) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	want := limit + 1 // chunked: read until EOF or past the limit
	src := io.Reader(http.MaxBytesReader(w, r.Body, limit))
	if r.ContentLength > 0 {
		want, src = r.ContentLength, r.Body
	}
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()

	var held int64
	release := func() { bufferBudget.release(held) }
	first := int64(initialBodyBuf)
	if r.ContentLength > 0 {
		// A declared body up to firstBodyBuf is read into one buffer of
		// its size: no copy on the way (Claude Code's bodies run to
		// hundreds of KiB). Beyond that the buffer grows as bytes come.
		first = firstBodyBuf
	}
	body := make([]byte, 0, min(want, first))
	if !bufferBudget.reserve(int64(cap(body))) {
		return nil, overloaded()
	}
	held = int64(cap(body))
	for int64(len(body)) < want {
		if len(body) == cap(body) {
			next := min(want, max(int64(cap(body))*2, initialBodyBuf))
			if !bufferBudget.reserve(next - held) {
				release()
				return nil, overloaded()
			}
			grown := make([]byte, len(body), next)
			copy(grown, body)
			body, held = grown, next
		}
		// A client that stops sending half-way must not hold the handler
		// for ever: the idle timeout applies between reads of the body.
		_ = rc.SetReadDeadline(time.Now().Add(idle))
		n, err := src.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			if r.ContentLength > 0 && int64(len(body)) < want {
				err = io.ErrUnexpectedEOF
			} else {
				break
			}
		}
		if err != nil {
			release()
			return nil, bodyReadError(r, err, limit, idle)
		}
	}
	// Given back when the request ends: the body lives that long.
	context.AfterFunc(r.Context(), release)
	return body, nil
}

// A body buffer's first size: initialBodyBuf for a chunked body,
// firstBodyBuf at most for a declared one. A client declaring 32 MB and
// sending nothing holds firstBodyBuf of the budget, not 32 MB.
const (
	initialBodyBuf = 64 << 10
	firstBodyBuf   = 1 << 20
)

func bodyReadError(r *http.Request, err error, limit int64, idle time.Duration) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return uploadStalled(idle)
	}
	if r.Context().Err() != nil {
		return fmt.Errorf("read request body: %w", ErrClientGone)
	}
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Class: storage.ClassClient4xx,
		Message: "reading the request body failed: " + redact(err.Error()), Err: err}
}

// deadlineBody is a streamed request body whose every read must come
// within idle of the previous one.
//
// The transport may go on reading a request body after RoundTrip returned
// (it closes it "possibly in a separate goroutine"), but the server panics
// on a body read once the handler is done. release, called before the
// handler returns, unblocks a pending read and fences off later ones.
type deadlineBody struct {
	rc   *http.ResponseController
	body io.ReadCloser
	idle time.Duration
	n    *int64

	mu      sync.Mutex
	eof     bool
	closed  bool
	stalled bool // a read hit the idle deadline
}

var errBodyReleased = errors.New("request body released")

func (d *deadlineBody) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, errBodyReleased
	}
	if d.eof {
		return 0, io.EOF
	}
	_ = d.rc.SetReadDeadline(time.Now().Add(d.idle))
	n, err := d.body.Read(p)
	*d.n += int64(n)
	switch {
	case err == io.EOF:
		d.eof = true
	case errors.Is(err, os.ErrDeadlineExceeded):
		d.stalled = true
	}
	return n, err
}

// stalledUpload reports whether the client stopped sending for the idle
// timeout.
func (d *deadlineBody) stalledUpload() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stalled
}

// uploadStalled is the answer to a client that stopped sending its body.
// 408 lets the SDKs retry.
func uploadStalled(idle time.Duration) *Error {
	return &Error{Status: http.StatusRequestTimeout, Type: TypeTimeout, Class: storage.ClassClient4xx,
		Message: fmt.Sprintf("the client sent no request body bytes for %s (--idle-timeout)", idle)}
}

// Close is the transport's; the client's body is closed by the server.
func (d *deadlineBody) Close() error { return nil }

// done reports whether the body was read to its end.
func (d *deadlineBody) done() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.eof
}

func (d *deadlineBody) release() {
	// Only a body not read to its end can have a read blocked on the
	// client's connection; at EOF the server already reads the connection
	// itself, and a deadline now would cut it.
	d.mu.Lock()
	eof := d.eof
	d.mu.Unlock()
	if !eof {
		_ = d.rc.SetReadDeadline(time.Now())
	}
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	if !eof {
		_ = d.rc.SetReadDeadline(time.Time{})
	}
}

// requestFacts are what the proxy reads from a request's JSON body.
type requestFacts struct {
	model  string
	stream bool
}

// sniffRequest finds the top-level "model" and "stream" of a JSON body
// without decoding it: Claude Code's bodies run to hundreds of KB and only
// these two fields matter here. SDKs put "model" near the start and
// "stream" near the end, after the big messages and tools, so the trailing
// members are read backwards first; only when that does not settle it is
// the body walked from the start.
func sniffRequest(body []byte, needStream bool) requestFacts {
	var f requestFacts
	gotModel, gotStream := false, !needStream
	member := func(key, val []byte) bool {
		switch string(key) {
		case "model":
			if !gotModel {
				// Bounded for records and metrics; the body forwarded is
				// never changed.
				if len(val) > 2*storage.MaxModelLen+2 { // escapes at most double it
					f.model = storage.InvalidModel
				} else {
					f.model = storage.NormalizeModel(jsonscan.String(val))
				}
				gotModel = true
			}
		case "stream":
			if !gotStream {
				f.stream, gotStream = string(val) == "true", true
			}
		}
		return !(gotModel && gotStream)
	}
	jsonscan.TailMembers(body, member)
	if gotModel && gotStream {
		return f
	}
	jsonscan.TopLevel(body, member)
	return f
}

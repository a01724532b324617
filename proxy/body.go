package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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
func readBody(w http.ResponseWriter, r *http.Request, limit int64, idle time.Duration) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// A client that stops sending half-way must not hold the handler for
	// ever: the idle timeout applies to the body too.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(idle))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()

	var (
		body []byte
		err  error
	)
	if r.ContentLength > 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(limit)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, uploadStalled(idle)
		}
		if r.Context().Err() != nil {
			return nil, fmt.Errorf("read request body: %w", ErrClientGone)
		}
		return nil, &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Class: storage.ClassClient4xx,
			Message: "reading the request body failed: " + redact(err.Error()), Err: err}
	}
	return body, nil
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
				f.model, gotModel = jsonString(val), true
			}
		case "stream":
			if !gotStream {
				f.stream, gotStream = string(val) == "true", true
			}
		}
		return !(gotModel && gotStream)
	}
	tailMembers(body, member)
	if gotModel && gotStream {
		return f
	}
	topLevel(body, member)
	return f
}

// tailMembers calls fn with the trailing members of the JSON object in b,
// last first, for as long as their values are strings or scalars (walking
// back over a nested value would need the whole body anyway). It stops
// quietly at anything else.
func tailMembers(b []byte, fn func(key, val []byte) bool) {
	j := skipWSBack(b, len(b)-1)
	if j < 0 || b[j] != '}' {
		return
	}
	j--
	for {
		j = skipWSBack(b, j)
		if j < 0 {
			return
		}
		var vs int
		switch b[j] {
		case '"':
			if vs = stringStartBack(b, j); vs < 0 {
				return
			}
		case '}', ']', '{', '[', ',', ':':
			return
		default:
			vs = j
			for vs > 0 && !scalarEnd[b[vs-1]] {
				vs--
			}
		}
		val := b[vs : j+1]
		k := skipWSBack(b, vs-1)
		if k < 0 || b[k] != ':' {
			return
		}
		k = skipWSBack(b, k-1)
		if k < 0 || b[k] != '"' {
			return
		}
		ks := stringStartBack(b, k)
		if ks < 0 {
			return
		}
		if !fn(b[ks+1:k], val) {
			return
		}
		k = skipWSBack(b, ks-1)
		if k < 0 || b[k] != ',' {
			return
		}
		j = k - 1
	}
}

// scalarEnd marks the bytes that can precede a scalar value.
var scalarEnd = [256]bool{':': true, ',': true, ' ': true, '\t': true, '\n': true, '\r': true, '[': true, '{': true}

func skipWSBack(b []byte, i int) int {
	for i >= 0 && i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i--
	}
	if i >= len(b) {
		return -1
	}
	return i
}

// stringStartBack returns the index of the opening quote of the string
// whose closing quote is b[end], or -1. Inside a JSON string a quote is
// always escaped, so the opening quote is the first one before end that
// follows an even number of backslashes.
func stringStartBack(b []byte, end int) int {
	for k := end - 1; k >= 0; k-- {
		k = bytes.LastIndexByte(b[:k+1], '"')
		if k < 0 {
			return -1
		}
		bs := 0
		for m := k - 1; m >= 0 && b[m] == '\\'; m-- {
			bs++
		}
		if bs%2 == 0 {
			return k
		}
	}
	return -1
}

// topLevel calls fn with each key of the JSON object in b and its value's
// raw bytes, in order, until fn returns false. It stops quietly at the first
// malformed byte: the body is forwarded as is whatever this finds.
func topLevel(b []byte, fn func(key, val []byte) bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	i++
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] != '"' {
			return
		}
		ke := skipString(b, i)
		if ke < 0 {
			return
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return
		}
		i = skipWS(b, i+1)
		ve := skipValue(b, i)
		if ve < 0 {
			return
		}
		if !fn(key, b[i:ve]) {
			return
		}
		i = skipWS(b, ve)
		if i >= len(b) || b[i] != ',' {
			return
		}
		i++
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// or -1. Strings are most of a request's bytes; short ones (keys, schema
// words) are cheaper to walk than to hand to IndexByte.
func skipString(b []byte, i int) int {
	j := i + 1
	for {
		// Walk a few bytes by hand first.
		end := min(j+16, len(b))
		for ; j < end; j++ {
			switch b[j] {
			case '"':
				return j + 1
			case '\\':
				j++
			}
		}
		if j >= len(b) {
			return -1
		}
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		if bytes.IndexByte(b[j:j+k], '\\') < 0 {
			return j + k + 1
		}
		// An escape before the quote: walk on from here by hand.
	}
}

// structural marks the bytes skipValue must look at inside a compound
// value; everything else is skipped by a table lookup.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// skipValue returns the index after the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			c := b[j]
			if !structural[c] {
				continue
			}
			switch c {
			case '"':
				j = skipString(b, j)
				if j < 0 {
					return -1
				}
				j-- // the loop steps past the closing quote
			case '{', '[':
				depth++
			default:
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\n', '\r', '\t':
				if j == i {
					return -1
				}
				return j
			}
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// jsonString decodes a raw JSON string value; "" when it is not one.
func jsonString(val []byte) string {
	if len(val) < 2 || val[0] != '"' {
		return ""
	}
	if inner := val[1 : len(val)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if json.Unmarshal(val, &s) != nil {
		return ""
	}
	return s
}

// jsonField returns the raw value of a top-level key, or nil.
func jsonField(b []byte, name string) []byte {
	var out []byte
	topLevel(b, func(key, val []byte) bool {
		if string(key) == name {
			out = val
			return false
		}
		return true
	})
	return out
}

// jsonInt returns a top-level integer field, and whether there was one.
func jsonInt(b []byte, name string) (int, bool) {
	v := jsonField(b, name)
	if v == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

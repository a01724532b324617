package proxy

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// exchange is one API request on its way through the proxy, with the
// record that describes it.
type exchange struct {
	p      *Proxy
	w      http.ResponseWriter
	r      *http.Request
	start  time.Time
	id     string // Ferry's request id, sent in Ferry's own errors
	origin string // the allowed browser Origin, if any
	rec    storage.Record
	body   []byte        // the request body as forwarded, for the observer
	upload *deadlineBody // a streamed request body, nil when buffered
	out    *Outgoing     // the request as the stages saw it; nil before
	// attempts made upstream, in order (retries and failovers).
	attempts []AttemptResult

	obs     Observer
	obsMade bool
	// summary is the stream's usage frames for an observer that takes
	// them from the relay's scan (SummaryReader).
	summary *sse.Summary

	wrote    bool   // the response header went to the client
	noRecord bool   // a CORS preflight: answered, not recorded
	abort    bool   // end the response by breaking the connection
	queued   bool   // handed to the books (set by books.add, read by books.settle)
	err      *Error // Ferry's own error, for the log
}

// errClientWrite means writing to the client failed: it went away.
var errClientWrite = errors.New("write to client failed")

// Copy buffers: event streams come in small frames, and a thousand open
// streams should not hold 32 KiB each; files and batch results move in bulk.
var (
	bufPool      = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	smallBufPool = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}
)

// maxErrBody is how much of an upstream error body is kept to read its
// error.type; error bodies are small.
const maxErrBody = 64 << 10

func (x *exchange) observer() Observer {
	if !x.obsMade {
		x.obsMade = true
		if f := x.p.opts.Observe; f != nil {
			x.obs = f(x.r, x.body, x.start)
		}
	}
	return x.obs
}

// decorate adds Ferry's headers to a response: the loud warning when
// certificate checks are off, and CORS for an allowed origin.
func (x *exchange) decorate(h http.Header) {
	if x.upload != nil && !x.upload.done() {
		// The upload was not read to its end. In full-duplex mode the
		// server would read the rest after the handler, then start
		// watching the connection for the next request while also
		// reading it: closing the connection is the only safe end.
		h.Set("Connection", "close")
	}
	if x.p.opts.InsecureSkipVerify {
		h.Set(headerFerryWarning, insecureWarning)
	}
	if n := len(x.attempts); n > 0 {
		// Issue 9: how many upstream attempts this answer took (retries
		// and failovers) and the route of the last one.
		h.Set(headerFerryAttempts, strconv.Itoa(n))
		h.Set(headerFerryRoute, headerSafe(x.attempts[n-1].Route))
	}
	setCORS(h, x.origin)
}

// headerSafe keeps a route name (the user's, maybe not ASCII) a valid
// header value: quoted with escapes when it is not printable ASCII.
func headerSafe(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

// clientGone records that the client left; nothing can be written.
func (x *exchange) clientGone() {
	x.rec.Status = StatusClientClosed
	x.rec.ErrorType, x.rec.ErrorClass = typeClientClosed, storage.ClassClient4xx
}

// fail answers with Ferry's own error (unless the client is gone or a
// response already started) and records it.
func (x *exchange) fail(e *Error) {
	x.err = e
	x.rec.Status = e.Status
	x.rec.ErrorType, x.rec.ErrorClass = e.Type, e.class()
	x.rec.RequestID = x.id
	if e.Status == StatusClientClosed {
		x.rec.ErrorType = typeClientClosed
		// Nothing to say to a client that left; and should it still be
		// listening, the server must not answer 200 for us.
		x.abort = !x.wrote
		return
	}
	if x.wrote {
		return
	}
	x.rec.BytesOut = int64(x.writeError(e))
	x.wrote = true
}

func (x *exchange) writeError(e *Error) int {
	h := x.w.Header()
	for k, vv := range e.Header {
		h[http.CanonicalHeaderKey(k)] = vv
	}
	x.decorate(h)
	return writeErrorBody(x.w, e.Status, e.Type, e.Message, x.id)
}

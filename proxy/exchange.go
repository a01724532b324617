package proxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/jsonscan"
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

	obs     Observer
	obsMade bool

	wrote    bool   // the response header went to the client
	noRecord bool   // a CORS preflight: answered, not recorded
	abort    bool   // end the response by breaking the connection
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
	setCORS(h, x.origin)
}

// streamState follows an SSE response as it is forwarded, to know what to
// close if it breaks.
type streamState struct {
	sse        bool // plain-text event stream of unknown length: repairable
	sc         sse.Scanner
	onFrame    func(sse.Frame)
	open       []int // content block indexes started and not stopped
	started    bool  // message_start seen
	terminated bool  // message_stop or an error frame seen

	keepErr bool // an error status: keep the body's start to read error.type
	errBody []byte
}

// pump copies src to the client, writing and flushing every read as it
// comes: a frame is never held back waiting for more bytes (a buffered
// 8 KiB chunk once held ping frames back until Claude Code gave up). The
// scanner and the observer only watch what was sent.
func (x *exchange) pump(src io.Reader, kick func(), st *streamState) error {
	pool := &bufPool
	if st.sse {
		pool = &smallBufPool
	}
	bp := pool.Get().(*[]byte)
	defer pool.Put(bp)
	buf := *bp
	rc := http.NewResponseController(x.w)
	obs := x.observer()
	if st.sse && st.onFrame == nil {
		st.onFrame = func(f sse.Frame) { x.frame(st, f) }
	}
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if kick != nil {
				kick()
			}
			_, werr := x.w.Write(buf[:n])
			if werr == nil {
				werr = rc.Flush()
			}
			x.rec.BytesOut += int64(n)
			if obs != nil {
				_, _ = obs.Write(buf[:n])
			}
			if st.sse {
				st.sc.Feed(buf[:n], st.onFrame)
			}
			if st.keepErr && len(st.errBody) < maxErrBody {
				st.errBody = append(st.errBody, buf[:min(n, maxErrBody-len(st.errBody))]...)
			}
			if werr != nil {
				return errClientWrite
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// frame follows the Anthropic stream's structure.
func (x *exchange) frame(st *streamState, f sse.Frame) {
	switch f.Event {
	case "message_start":
		st.started = true
	case "content_block_start":
		if i, ok := jsonscan.Int(f.Data, "index"); ok && !slices.Contains(st.open, i) {
			st.open = append(st.open, i)
		}
	case "content_block_stop":
		if i, ok := jsonscan.Int(f.Data, "index"); ok {
			st.open = slices.DeleteFunc(st.open, func(v int) bool { return v == i })
		}
	case "message_stop":
		st.terminated = true
	case "error":
		// Anthropic's own mid-stream error (overloaded …): it passes
		// through untouched and ends the message.
		st.terminated = true
		x.rec.ErrorClass = storage.ClassUpstream5xx
		if t := jsonscan.String(jsonscan.Field(jsonscan.Field(f.Data, "error"), "type")); t != "" {
			x.rec.ErrorType = t
		}
	}
}

// streamBroke ends a response whose upstream failed after the headers
// went out. An event stream in plain text is repaired: the frame in
// progress is ended, every open content block gets its content_block_stop
// (so the client's next turn does not fail with "content block not
// found"), then an error frame says what happened, and the response ends
// cleanly. Anything else (a JSON body, a gzip-encoded stream, whose cut
// deflate data nothing can be appended to) is aborted, so the client sees
// a broken connection rather than a short body that looks whole.
func (x *exchange) streamBroke(st *streamState, e *Error) {
	if st.terminated {
		// The message was complete; only the end of the body was lost.
		return
	}
	x.err = e
	x.rec.ErrorType, x.rec.ErrorClass = e.Type, e.class()
	if !st.sse {
		x.abort = true
		return
	}
	var b bytes.Buffer
	if st.sc.InFrame() {
		// A blank line dispatches the partial frame (the scanner sees it
		// too, in case it was a content_block_stop); a second one ends a
		// line cut in the middle.
		b.WriteString("\n\n")
		st.sc.Feed([]byte("\n\n"), st.onFrame)
	}
	slices.Sort(st.open)
	for _, i := range st.open {
		fmt.Fprintf(&b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", i)
	}
	msg, _ := json.Marshal(e.Message)
	fmt.Fprintf(&b, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":%q,\"message\":%s}}\n\n", e.Type, msg)
	if _, err := x.w.Write(b.Bytes()); err != nil {
		return
	}
	_ = http.NewResponseController(x.w).Flush()
	x.rec.BytesOut += int64(b.Len())
	if obs := x.observer(); obs != nil {
		_, _ = obs.Write(b.Bytes())
	}
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

// errorJSON is Anthropic's error shape.
type errorJSON struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

func (x *exchange) writeError(e *Error) int {
	h := x.w.Header()
	for k, vv := range e.Header {
		h[http.CanonicalHeaderKey(k)] = vv
	}
	x.decorate(h)
	return writeErrorBody(x.w, e.Status, e.Type, e.Message, x.id)
}

// answer writes a RequestHook's response.
func (x *exchange) answer(a *Answer) {
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	x.rec.Status, x.rec.CacheHit = status, a.CacheHit
	x.rec.RequestID = a.Header.Get("Request-Id")
	switch {
	case status >= 500:
		x.rec.ErrorClass = storage.ClassUpstream5xx
	case status >= 400:
		x.rec.ErrorClass = storage.ClassUpstream4xx
	}
	h := x.w.Header()
	for k, vv := range a.Header {
		h[http.CanonicalHeaderKey(k)] = vv
	}
	removeHopByHop(h)
	x.decorate(h)
	if obs := x.observer(); obs != nil {
		obs.Response(status, a.Header)
	}
	x.w.WriteHeader(status)
	x.wrote = true
	if a.Body == nil {
		return
	}
	if c, ok := a.Body.(io.Closer); ok {
		defer c.Close()
	}
	err := x.pump(a.Body, nil, &streamState{})
	switch {
	case err == nil:
	case err == errClientWrite || x.r.Context().Err() != nil:
		x.clientGone()
	default:
		x.err = &Error{Status: http.StatusInternalServerError, Type: TypeAPI, Class: storage.ClassFerry, Err: err,
			Message: "reading Ferry's own answer failed: " + redact(err.Error())}
		x.rec.ErrorType, x.rec.ErrorClass = x.err.Type, x.err.Class
		x.abort = true
	}
}

// finish hands the record to the observer, the recorder and the bus, and
// logs it: exactly once per API request, whatever happened.
func (x *exchange) finish() {
	if x.noRecord {
		return
	}
	x.rec.Total = time.Since(x.start)
	// The bookkeeping runs later, in a batch (see books): neither the end
	// of the response nor the connection's next request waits for it. The
	// handler touches x no more; Shutdown waits for p.books.
	x.p.books.add(x)
	if x.abort {
		// Break the connection: the client must not take a cut body for
		// a whole one. The server recovers this panic quietly.
		panic(http.ErrAbortHandler)
	}
}

// account hands the finished record to the observer, the recorder and the
// bus, and logs it.
func (x *exchange) account() {
	rec := &x.rec
	if obs := x.observer(); obs != nil {
		obs.Done(rec)
	}
	if x.p.opts.Recorder != nil {
		x.p.opts.Recorder.Record(*rec)
	}
	if x.p.opts.Bus != nil {
		published := *rec
		x.p.opts.Bus.Publish(events.Event{Kind: events.RequestFinished, Record: &published})
	}
	x.logLine()
}

func (x *exchange) logLine() {
	rec := &x.rec
	level := slog.LevelInfo
	if rec.ErrorClass == storage.ClassNetwork || rec.ErrorClass == storage.ClassFerry {
		level = slog.LevelWarn
	}
	log := x.p.log
	if !log.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("id", x.id),
		slog.String("method", rec.Method),
		slog.String("path", rec.Path),
		slog.String("model", rec.Model),
		slog.String("route", rec.Route),
		slog.Int("status", rec.Status),
		slog.Float64("latency_ms", float64(rec.Total.Microseconds())/1000),
	)
	if rec.FirstByte > 0 {
		attrs = append(attrs, slog.Float64("first_byte_ms", float64(rec.FirstByte.Microseconds())/1000))
	}
	if rec.RequestID != "" && rec.RequestID != x.id {
		attrs = append(attrs, slog.String("request_id", rec.RequestID))
	}
	if rec.Stream {
		attrs = append(attrs, slog.Bool("stream", true))
	}
	attrs = append(attrs, slog.Int64("bytes_in", rec.BytesIn), slog.Int64("bytes_out", rec.BytesOut))
	if t := rec.Tokens; t.Input+t.Output+t.CacheRead+t.CacheWrite5m+t.CacheWrite1h > 0 {
		attrs = append(attrs, slog.Int64("tokens_in", t.Prompt()), slog.Int64("tokens_out", t.Output))
	}
	if rec.CostUSD > 0 {
		attrs = append(attrs, slog.Float64("cost_usd", rec.CostUSD))
	}
	if rec.CacheHit {
		attrs = append(attrs, slog.Bool("cache_hit", true))
	}
	if rec.ErrorType != "" {
		attrs = append(attrs, slog.String("error_type", rec.ErrorType), slog.String("error_class", string(rec.ErrorClass)))
	}
	if x.err != nil && x.err.Status != StatusClientClosed {
		attrs = append(attrs, slog.String("error", redact(x.err.Message)))
	}
	log.LogAttrs(context.Background(), level, "request", attrs...)
}

// errorTypeOf reads error.type from the start of an error body.
func errorTypeOf(body []byte, enc string) string {
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return ""
		}
		// A cut gzip stream still yields what it decoded before the cut.
		body, _ = io.ReadAll(io.LimitReader(zr, maxErrBody))
	}
	return jsonscan.String(jsonscan.Field(jsonscan.Field(body, "error"), "type"))
}

package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// relay sends a response to the client: its headers, then its body as it
// comes. From the first byte on nothing can be retried; a body that
// breaks is repaired (an event stream) or aborted (see streamBroke).
func (x *exchange) relay(res *Response) {
	r := x.r
	if res.Body != nil {
		defer res.Body.Close()
	}
	status := res.Status
	if status == 0 {
		status = http.StatusOK
	}
	up := res.Upstream
	if up != nil {
		x.rec.FirstByte = res.FirstByte
	}
	x.rec.Status = status
	x.rec.CacheHit = res.CacheHit
	x.rec.RequestID = res.Header.Get("Request-Id")
	switch {
	case status >= 500:
		x.rec.ErrorClass = storage.ClassUpstream5xx
	case status >= 400:
		x.rec.ErrorClass = storage.ClassUpstream4xx
	}

	hdr := x.w.Header()
	for k, vv := range res.Header {
		hdr[http.CanonicalHeaderKey(k)] = vv
	}
	removeHopByHop(hdr)
	x.decorate(hdr)
	enc := strings.ToLower(res.Header.Get("Content-Encoding"))
	plain := enc == "" || enc == "identity"
	// A response hook that changes the body's length drops its
	// Content-Length; a stage's answer says its length in the header.
	length := int64(-1)
	if cl := res.Header.Get("Content-Length"); cl != "" {
		length, _ = strconv.ParseInt(cl, 10, 64)
	} else if up != nil && len(res.Header.Values("Content-Length")) == 0 && res.length >= 0 && !res.hooked {
		length = res.length
	}
	st := &streamState{}
	// Only Anthropic's own event stream can be repaired with its frames;
	// any other cut body (OpenAI format, JSON) is aborted instead.
	if plain && length < 0 && sse.IsEventStream(res.Header.Get("Content-Type")) && r.URL.Path == "/v1/messages" {
		st.sse = true
	}
	if status >= 400 {
		st.keepErr = true
	}
	if obs := x.observer(); obs != nil {
		obs.Response(status, res.Header)
		if sr, ok := obs.(SummaryReader); ok && st.sse && res.Body != nil {
			if clock, ok := sr.UseSummary(); ok {
				st.sum, st.clock = &sse.Summary{}, clock
				x.summary = st.sum
			}
		}
	}
	x.w.WriteHeader(status)
	x.wrote = true
	if res.Body == nil {
		return
	}

	rerr := x.pump(res.Body, st)
	for k, vv := range res.trailer {
		hdr[http.TrailerPrefix+k] = vv
	}
	if st.keepErr && x.rec.ErrorType == "" {
		x.rec.ErrorType = errorTypeOf(st.errBody, enc)
	}

	switch {
	case rerr == errClientWrite || r.Context().Err() != nil:
		x.clientGone()
	case rerr != nil && up == nil:
		// A stage's own answer failed (a cache entry that could not be
		// read, a coalesced call that ended): say so, break the body.
		e := &Error{Status: http.StatusInternalServerError, Type: TypeAPI, Class: storage.ClassFerry, Err: rerr,
			Message: "reading Ferry's own answer failed: " + redact(rerr.Error())}
		if fe, ok := rerr.(*Error); ok {
			e = fe
		}
		x.streamBroke(st, e)
	case rerr != nil:
		if (errors.Is(context.Cause(res.ctx), ErrStreamStalled) || isLostPing(rerr)) && x.p.opts.OnStall != nil {
			x.p.opts.OnStall(up.Route.Name)
		}
		x.streamBroke(st, errorFor(r.Context(), res.ctx, rerr, x.p.where(up)))
	case st.sse && st.started && !st.terminated:
		// The upstream ended the body cleanly but mid-message (a relay
		// that gave up): the client is left with open blocks all the same.
		route := ""
		if up != nil {
			route = " via route " + strconv.Quote(up.Route.Name)
		}
		x.streamBroke(st, &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork,
			Message: "the upstream ended the stream before message_stop" + route})
	}
}

// streamState follows an SSE response as it is forwarded, to know what to
// close if it breaks.
type streamState struct {
	sse     bool // plain-text event stream of unknown length: repairable
	sc      sse.Scanner
	onFrame func(sse.Frame)
	// sum keeps the frames the meter reads usage from, when it takes
	// them from this scan instead of scanning the stream again.
	sum        *sse.Summary
	clock      func() time.Time // the observer's, for sum
	open       []int            // content block indexes started and not stopped
	started    bool             // message_start seen
	terminated bool             // message_stop or an error frame seen

	keepErr bool // an error status: keep the body's start to read error.type
	errBody []byte
}

// pump copies src to the client, writing and flushing every read as it
// comes: a frame is never held back waiting for more bytes (a buffered
// 8 KiB chunk once held ping frames back until Claude Code gave up). The
// scanner and the observer only watch what was sent.
func (x *exchange) pump(src io.Reader, st *streamState) error {
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
	if st.sum != nil {
		st.sum.Add(f, st.clock)
	}
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
// went out. An event stream in plain text is repaired so the client's
// parser recovers (issue 9):
//
//   - a frame cut in the middle is ended as a ping: the cut line gets its
//     "\n" and an "event: ping" line, then the blank line. The last
//     event: field wins, and the SDKs skip ping frames without parsing
//     their data, so half a JSON object is never parsed (a blank line
//     alone dispatched it under its own type: the SDK then failed on
//     truncated JSON instead of raising an API error);
//   - if the cut frame was message_stop, the message was whole: a whole
//     message_stop frame is sent and the stream ends there;
//   - otherwise every open content block gets its content_block_stop (so
//     the client's next turn does not fail with "content block not
//     found"), then an error frame says what happened, and the response
//     ends cleanly: the SDKs raise an APIError of the frame's type.
//
// Anything else (a JSON body, a gzip-encoded stream, whose cut deflate
// data nothing can be appended to) is aborted, so the client sees a broken
// connection rather than a short body that looks whole.
func (x *exchange) streamBroke(st *streamState, e *Error) {
	if st.terminated {
		// The message was complete; only the end of the body was lost.
		return
	}
	var b bytes.Buffer
	cutStop := false
	if st.sse && st.sc.InFrame() {
		ev, midLine := st.sc.Pending()
		cutStop = ev == "message_stop"
		if midLine {
			b.WriteString("\n")
		}
		b.WriteString("event: ping\n\n")
		st.sc.Feed(b.Bytes(), st.onFrame)
	}
	if st.sse && cutStop {
		stop := []byte(`{"type":"message_stop"}`)
		fmt.Fprintf(&b, "event: message_stop\ndata: %s\n\n", stop)
		if st.sum != nil {
			st.sum.Add(sse.Frame{Event: "message_stop", Data: stop}, time.Now)
		}
		x.writeRepair(b.Bytes())
		return
	}
	x.err = e
	x.rec.ErrorType, x.rec.ErrorClass = e.Type, e.class()
	if !st.sse {
		x.abort = true
		return
	}
	slices.Sort(st.open)
	for _, i := range st.open {
		fmt.Fprintf(&b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", i)
	}
	msg, _ := json.Marshal(e.Message)
	errFrame := fmt.Appendf(nil, "{\"type\":\"error\",\"error\":{\"type\":%q,\"message\":%s}}", e.Type, msg)
	fmt.Fprintf(&b, "event: error\ndata: %s\n\n", errFrame)
	if st.sum != nil {
		st.sum.Add(sse.Frame{Event: "error", Data: errFrame}, st.clock)
	}
	x.writeRepair(b.Bytes())
}

// writeRepair sends the frames Ferry adds to a broken stream.
func (x *exchange) writeRepair(b []byte) {
	if _, err := x.w.Write(b); err != nil {
		return
	}
	_ = http.NewResponseController(x.w).Flush()
	x.rec.BytesOut += int64(len(b))
	if obs := x.observer(); obs != nil {
		_, _ = obs.Write(b)
	}
}

// isLostPing recognises the HTTP/2 transport closing a connection whose
// PING went unanswered (road.h2_ping_timeout): every stream on it ends at
// once with this error. net/http's bundled HTTP/2 does not export it
// (errClientConnLost), so its text is the only mark.
func isLostPing(err error) bool {
	return err != nil && strings.Contains(err.Error(), "client connection lost")
}

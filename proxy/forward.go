package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// hopHeaders are meaningful for one connection only (RFC 9110 §7.6.1) and
// never forwarded, in either direction.
var hopHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// removeHopByHop deletes hop-by-hop headers, including those the
// Connection header names.
func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
}

// upstreamEncoding is the Accept-Encoding offered upstream. Ferry must
// read what flows back (usage comes from it) and Go decodes only gzip, so
// the upstream is offered gzip when the client takes it and identity
// otherwise (Claude Code asks for gzip, br and zstd). The client gets the
// upstream's bytes unchanged.
//
// A streaming request is offered identity only: a stream that breaks can
// be repaired (open blocks closed, an error frame added) only in plain
// text, since nothing can be appended to a cut gzip stream; and a
// compressor upstream may hold small frames back.
func upstreamEncoding(accept []string, stream bool) string {
	if !stream && acceptsGzip(accept) {
		return "gzip"
	}
	return "identity"
}

// acceptsGzip parses Accept-Encoding values with their q-values.
func acceptsGzip(values []string) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(param, "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch name {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// targetURL is the upstream URL for the client's: the base's scheme, host
// and path prefix, the client's path and query.
func (p *Proxy) targetURL(in *url.URL) *url.URL {
	u := *p.base
	u.Path, u.RawPath = joinURLPath(p.base, in)
	u.RawQuery = in.RawQuery
	u.Fragment = ""
	return &u
}

func joinURLPath(a, b *url.URL) (path, rawpath string) {
	if a.RawPath == "" && b.RawPath == "" {
		return singleJoiningSlash(a.Path, b.Path), ""
	}
	apath, bpath := a.EscapedPath(), b.EscapedPath()
	aslash, bslash := strings.HasSuffix(apath, "/"), strings.HasPrefix(bpath, "/")
	switch {
	case aslash && bslash:
		return a.Path + b.Path[1:], apath + bpath[1:]
	case !aslash && !bslash:
		return a.Path + "/" + b.Path, apath + "/" + bpath
	}
	return a.Path + b.Path, apath + bpath
}

func singleJoiningSlash(a, b string) string {
	aslash, bslash := strings.HasSuffix(a, "/"), strings.HasPrefix(b, "/")
	switch {
	case aslash && bslash:
		return a + b[1:]
	case !aslash && !bslash:
		return a + "/" + b
	}
	return a + b
}

// watchdog cancels the upstream request when a phase takes too long: the
// wait for response headers (first byte), then every gap between reads
// (idle). There is deliberately no total deadline.
type watchdog struct {
	cancel context.CancelCauseFunc
	t      *time.Timer
	cause  atomic.Pointer[error]
	idle   time.Duration
	// answered is set once the response headers came: from then on only
	// the idle clock runs, even if the upload is still going.
	answered atomic.Bool
}

func newWatchdog(cancel context.CancelCauseFunc, idle time.Duration) *watchdog {
	return &watchdog{cancel: cancel, idle: idle}
}

// arm starts (or restarts) the clock for a phase that must end within d.
func (w *watchdog) arm(d time.Duration, cause error) {
	w.cause.Store(&cause)
	if w.t == nil {
		w.t = time.AfterFunc(d, func() { w.cancel(*w.cause.Load()) })
		return
	}
	w.t.Reset(d)
}

// kick restarts the idle clock after bytes moved.
func (w *watchdog) kick() {
	if w.t != nil {
		w.t.Reset(w.idle)
	}
}

func (w *watchdog) stop() {
	if w.t != nil {
		w.t.Stop()
	}
}

// watchedBody is a streamed request body on its way upstream: every read
// kicks the idle clock (an upstream that stops reading is as stuck as one
// that stops writing), and its end starts the first-byte clock.
type watchedBody struct {
	*deadlineBody
	wd        *watchdog
	firstByte time.Duration
	ended     bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.deadlineBody.Read(p)
	if err == io.EOF && !b.ended {
		b.ended = true
		if !b.wd.answered.Load() {
			b.wd.arm(b.firstByte, ErrFirstByteTimeout)
		}
	} else if n > 0 {
		b.wd.kick()
	}
	return n, err
}

// forward sends the request upstream and the response back.
func (p *Proxy) forward(x *exchange, up *route.Upstream, h http.Header, body []byte, stream *deadlineBody) {
	r := x.r
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	wd := newWatchdog(cancel, p.opts.IdleTimeout)
	defer wd.stop()

	u := p.targetURL(r.URL)
	out := &http.Request{
		Method:     r.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
	}
	switch {
	case stream != nil:
		defer stream.release()
		out.Body = &watchedBody{deadlineBody: stream, wd: wd, firstByte: p.opts.FirstByteTimeout}
		out.ContentLength = r.ContentLength
		wd.arm(p.opts.IdleTimeout, ErrIdleTimeout)
	case len(body) > 0:
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		// Lets the transport resend on a fresh connection when a pooled
		// one turns out dead before anything was written.
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		wd.arm(p.opts.FirstByteTimeout, ErrFirstByteTimeout)
	default:
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			out.Body = http.NoBody
		}
		wd.arm(p.opts.FirstByteTimeout, ErrFirstByteTimeout)
	}
	out = out.WithContext(ctx)

	res, err := up.Transport.RoundTrip(out)
	if err != nil {
		if stream != nil && stream.stalledUpload() {
			x.fail(uploadStalled(p.opts.IdleTimeout))
			return
		}
		x.fail(errorFor(r.Context(), ctx, err, p.where(up)))
		return
	}
	defer res.Body.Close()
	x.rec.FirstByte = time.Since(x.start)
	wd.answered.Store(true)
	wd.arm(p.opts.IdleTimeout, ErrIdleTimeout)

	x.rec.Status = res.StatusCode
	x.rec.RequestID = res.Header.Get("Request-Id")
	switch {
	case res.StatusCode >= 500:
		x.rec.ErrorClass = storage.ClassUpstream5xx
	case res.StatusCode >= 400:
		x.rec.ErrorClass = storage.ClassUpstream4xx
	}

	hdr := x.w.Header()
	for k, vv := range res.Header {
		hdr[k] = vv
	}
	removeHopByHop(hdr)
	x.decorate(hdr)
	if obs := x.observer(); obs != nil {
		obs.Response(res.StatusCode, res.Header)
	}
	x.w.WriteHeader(res.StatusCode)
	x.wrote = true

	enc := strings.ToLower(res.Header.Get("Content-Encoding"))
	plain := enc == "" || enc == "identity"
	st := &streamState{}
	// Only Anthropic's own event stream can be repaired with its frames;
	// any other cut body (OpenAI format, JSON) is aborted instead.
	if plain && res.ContentLength < 0 && sse.IsEventStream(res.Header.Get("Content-Type")) && r.URL.Path == "/v1/messages" {
		st.sse = true
	}
	if res.StatusCode >= 400 {
		st.keepErr = true
	}

	rerr := x.pump(res.Body, wd.kick, st)
	for k, vv := range res.Trailer {
		hdr[http.TrailerPrefix+k] = vv
	}
	if st.keepErr && x.rec.ErrorType == "" {
		x.rec.ErrorType = errorTypeOf(st.errBody, enc)
	}

	switch {
	case rerr == errClientWrite || r.Context().Err() != nil:
		x.clientGone()
	case rerr != nil:
		e := errorFor(r.Context(), ctx, rerr, p.where(up))
		x.streamBroke(st, e)
	case st.sse && st.started && !st.terminated:
		// The upstream ended the body cleanly but mid-message (a relay
		// that gave up): the client is left with open blocks all the same.
		x.streamBroke(st, &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork,
			Message: "the upstream ended the stream before message_stop via route " + strconv.Quote(up.Route.Name)})
	}
}

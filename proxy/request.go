package proxy

import (
	"context"
	"net/http"
	"strings"

	"github.com/ferry-gateway/ferry/storage"
)

// serveAPI takes an API request along the pipeline (see pipeline.go):
// the guards, the body, the stages, the attempts, the response hooks and
// the relay.
func (p *Proxy) serveAPI(x *exchange) {
	r := x.r
	origin, gerr := p.guard(r)
	if gerr != nil {
		// The front door refuses these before the proxy sees them; a
		// handler served without it refuses the same way: counted and
		// logged at most once a minute, never recorded (a page could fill
		// the history with them, issue 14).
		p.refused(r, gerr)
		x.noRecord = true
		x.fail(gerr)
		return
	}
	x.origin = origin
	if isPreflight(r) {
		// A CORS handshake from an allowed origin, answered here: it is
		// not an API call, so it is not recorded either.
		writePreflight(x.w, r, origin)
		x.noRecord = true
		return
	}
	if p.paused.Load() {
		x.fail(&Error{Status: http.StatusServiceUnavailable, Type: TypeAPI, Class: storage.ClassFerry,
			Message: "Ferry is paused; resume it from the tray menu or with POST /_ferry/resume"})
		return
	}
	hdr := r.Header.Clone()
	removeHopByHop(hdr)
	key, aerr := p.authorize(r.URL.Path, hdr)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	// Ferry's own headers (x-ferry-token, x-ferry-admin-token, the
	// cache and brake switches) are for Ferry: none goes upstream. The
	// switches stay readable by the stages in Outgoing.Ferry.
	switches := removeFerryHeaders(hdr)
	x.rec.KeyFingerprint = fingerprint(key)

	out := &Outgoing{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: hdr,
		KeyFingerprint: x.rec.KeyFingerprint, Client: x.rec.Client,
		Session: boundedHeader(r.Header.Get("X-Claude-Code-Session-Id"), maxSessionLen),
		Arrived: x.start, ID: x.id, Ferry: switches,
	}
	x.out = out
	if largeEndpoint(r.URL.Path) {
		if r.ContentLength > p.opts.MaxBodyLarge {
			x.fail(tooLarge(p.opts.MaxBodyLarge))
			return
		}
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			// Keep reading the upload while the response is written:
			// without it the HTTP/1.1 server closes the request body at
			// the first write (golang/go#40747). Buffered bodies need
			// none: they are read whole before anything is written.
			// Unsupported on HTTP/2, which needs none either.
			_ = http.NewResponseController(x.w).EnableFullDuplex()
			x.upload = &deadlineBody{
				rc:   http.NewResponseController(x.w),
				body: http.MaxBytesReader(x.w, r.Body, p.opts.MaxBodyLarge),
				idle: p.opts.IdleTimeout,
				n:    &x.rec.BytesIn,
			}
			defer x.upload.release()
			// A streamed upload cannot be sent twice: its bytes are gone
			// once read, so such a request gets exactly one attempt.
			out.Streamed = true
		}
	} else {
		body, err := readBody(x.w, r, p.opts.MaxBody, p.opts.IdleTimeout)
		if err != nil {
			x.fail(errorFor(r.Context(), r.Context(), err, p.where(nil)))
			return
		}
		x.rec.BytesIn = int64(len(body))
		facts := sniffRequest(body, r.URL.Path == "/v1/messages" || r.URL.Path == "/v1/chat/completions")
		x.rec.Model, x.rec.Stream = facts.model, facts.stream
		out.Body, out.Model, out.Stream = body, facts.model, facts.stream
	}

	// Settled before the stages run: a response filter that must read
	// plain text can still ask for identity.
	hdr.Set("Accept-Encoding", upstreamEncoding(r.Header.Values("Accept-Encoding"), out.Stream))
	if key != "" && r.Header.Get("X-Api-Key") != key && bearer(r.Header) != key {
		// The client sent the local token and Ferry swapped in the key it
		// holds: that client may spend the key, never learn it. An
		// upstream that echoes it (a relay's error body, a header) has it
		// removed; the exact match needs the bytes unencoded.
		hdr.Set("Accept-Encoding", "identity")
		out.OnResponse(RespFilter, removeHeldKey(key))
	}
	if _, ok := hdr["User-Agent"]; !ok {
		// Otherwise the transport adds Go's own.
		hdr["User-Agent"] = []string{""}
	}

	res, ferr := p.runStages(r.Context(), out)
	if ferr != nil {
		x.fail(ferr)
		return
	}
	if !out.Streamed {
		x.body = out.Body
	}
	if res == nil {
		res, ferr = p.attempts(x, out)
		if ferr != nil {
			x.fail(ferr)
			return
		}
	}
	if ferr := runResponseHooks(out, res); ferr != nil {
		x.fail(ferr)
		return
	}
	x.relay(res)
}

// runStages runs the stages in their order, with the built-in steps of
// the pipeline between them. It returns a stage's answer, or nil when
// the request is to go upstream.
func (p *Proxy) runStages(ctx context.Context, out *Outgoing) (*Response, *Error) {
	p.startKeyPrep(out)
	defer out.waitKeyPrep()
	keyed := false
	for _, st := range p.stages {
		if !keyed && st.Phase > PhaseFilter {
			p.computeKey(out)
			keyed = true
		}
		if st.Phase > PhaseCache && out.refusal != nil {
			return nil, out.refusal
		}
		res, err := st.Run(ctx, out)
		if err != nil {
			return nil, stageError(st, err)
		}
		if res != nil {
			return res, nil
		}
	}
	if !keyed {
		p.computeKey(out)
	}
	if out.refusal != nil {
		return nil, out.refusal
	}
	return nil, nil
}

func (p *Proxy) computeKey(out *Outgoing) {
	// A bodiless GET (/v1/models) has a key too; a streamed upload none.
	if p.opts.Key != nil && !out.Streamed {
		out.Key = p.opts.Key(out)
	}
}

// runResponseHooks runs a request's response hooks in their phase order.
func runResponseHooks(out *Outgoing, res *Response) *Error {
	if len(out.respHooks) == 0 {
		return nil
	}
	hooks := out.respHooks
	res.hooked = true
	for ph := RespFilter; ph <= RespCacheFill; ph++ {
		for _, h := range hooks {
			if h.phase != ph {
				continue
			}
			if err := h.hook(res); err != nil {
				if res.Body != nil {
					res.Body.Close()
				}
				return hookError(err)
			}
		}
	}
	return nil
}

// stageError turns what a stage returned into the error written.
func stageError(st Stage, err error) *Error {
	if fe, ok := err.(*Error); ok {
		return fe
	}
	return &Error{Status: http.StatusInternalServerError, Type: TypeAPI, Class: storage.ClassFerry, Err: err,
		Message: "Ferry's " + st.Name + " failed to process the request: " + redact(err.Error())}
}

// hookError turns what a response hook returned into the error written.
func hookError(err error) *Error {
	if fe, ok := err.(*Error); ok {
		return fe
	}
	return &Error{Status: http.StatusInternalServerError, Type: TypeAPI, Class: storage.ClassFerry, Err: err,
		Message: "Ferry failed to process the response: " + redact(err.Error())}
}

// maxSessionLen bounds the session id kept from a client's header.
const maxSessionLen = 128

// boundedHeader cuts an outside value to n bytes for records and logs.
func boundedHeader(v string, n int) string {
	if len(v) > n {
		return v[:n]
	}
	return v
}

// removeFerryHeaders deletes every x-ferry-* header: they are addressed
// to Ferry, and an x-ferry-admin-token must never reach an upstream. It
// returns the switches among them (x-ferry-cache, …), bounded; never the
// tokens, which no stage needs.
func removeFerryHeaders(h http.Header) http.Header {
	var switches http.Header
	for k, vv := range h {
		if len(k) >= 8 && strings.EqualFold(k[:8], "X-Ferry-") {
			delete(h, k)
			ck := http.CanonicalHeaderKey(k)
			if ck == headerFerryToken || ck == "X-Ferry-Admin-Token" || len(vv) == 0 || len(switches) >= maxSwitches {
				continue
			}
			if switches == nil {
				switches = make(http.Header, 2)
			}
			switches[ck] = []string{boundedHeader(vv[0], maxSwitchLen)}
		}
	}
	return switches
}

// Bounds on the x-ferry-* switches a client sends.
const (
	maxSwitches  = 8
	maxSwitchLen = 64
)

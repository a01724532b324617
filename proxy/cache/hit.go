package cache

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// Response headers the cache adds.
const (
	HeaderCache          = "X-Ferry-Cache"            // hit | miss | bypass | coalesced | off
	HeaderCacheAge       = "X-Ferry-Cache-Age"        // seconds since the answer was stored
	HeaderCacheRequestID = "X-Ferry-Cache-Request-Id" // the request-id of the call that paid for it
)

// head is what an entry keeps of the response head: the status, and of
// the headers only what a replay must say. The anthropic-ratelimit-*
// headers (unified ones included) and retry-after are never kept: they
// would show stale headroom and stale subscription quota.
type head struct {
	Status          int    `json:"s"`
	ContentType     string `json:"ct,omitempty"`
	ContentEncoding string `json:"ce,omitempty"`
	RequestID       string `json:"rid,omitempty"`
}

func headOf(status int, h http.Header) head {
	if status == 0 {
		status = http.StatusOK
	}
	return head{Status: status, ContentType: h.Get("Content-Type"),
		ContentEncoding: strings.ToLower(h.Get("Content-Encoding")), RequestID: h.Get("Request-Id")}
}

func (h head) encode() []byte {
	b, _ := json.Marshal(h) // strings and an int: cannot fail
	return b
}

func decodeHead(b []byte) (head, error) {
	var h head
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("cache entry head: %w", err)
	}
	return h, nil
}

func (h head) stream() bool { return sse.IsEventStream(h.ContentType) }

// hitResponse replays a stored entry: its status and bytes, a stream
// frame by frame at full speed (the relay flushes every read).
func hitResponse(out *proxy.Outgoing, e storage.CacheEntry, h head, now time.Time) (*proxy.Response, error) {
	hdr := make(http.Header, 6)
	if h.ContentType != "" {
		hdr.Set("Content-Type", h.ContentType)
	}
	if h.RequestID != "" {
		hdr.Set("Request-Id", h.RequestID)
		hdr.Set(HeaderCacheRequestID, h.RequestID)
	}
	hdr.Set(HeaderCache, "hit")
	hdr.Set(HeaderCacheAge, strconv.FormatInt(int64(max(0, now.Sub(e.Stored)/time.Second)), 10))
	body := e.Body
	switch {
	case h.ContentEncoding == "" || h.ContentEncoding == "identity":
	case h.ContentEncoding == "gzip" && clientTakesGzip(out):
		hdr.Set("Content-Encoding", "gzip")
	case h.ContentEncoding == "gzip":
		// Stored for a client that took gzip; this one didn't ask for it.
		// The key ignores Accept-Encoding, so decode for it.
		plain, err := gunzip(body)
		if err != nil {
			return nil, err
		}
		body = plain
	default:
		return nil, fmt.Errorf("cache entry in unknown content-encoding %q", h.ContentEncoding)
	}
	res := &proxy.Response{Status: h.Status, Header: hdr, CacheHit: true}
	if h.stream() {
		res.Body = &frameReader{b: body}
	} else {
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
		res.Body = io.NopCloser(bytes.NewReader(body))
	}
	return res, nil
}

// clientTakesGzip: the pipeline offers the upstream gzip exactly when the
// client accepts it (and the request isn't a stream).
func clientTakesGzip(out *proxy.Outgoing) bool {
	return strings.EqualFold(out.Header.Get("Accept-Encoding"), "gzip")
}

// maxPlain bounds a decoded entry: a stored answer is at most
// max_entry_bytes compressed; a hostile ratio must not blow memory up.
const maxPlain = 64 << 20

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode cached gzip answer: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(zr, maxPlain+1))
	if err != nil {
		return nil, fmt.Errorf("decode cached gzip answer: %w", err)
	}
	if len(plain) > maxPlain {
		return nil, fmt.Errorf("decode cached gzip answer: larger than %d bytes", maxPlain)
	}
	return plain, nil
}

// frameReader gives a stored event stream one frame per Read, so the
// relay flushes each as the upstream once did: a client sees every
// event: line, ping and frame as sent, at once.
type frameReader struct {
	b   []byte
	off int
}

func (r *frameReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	rest := r.b[r.off:]
	end := len(rest)
	if i := bytes.Index(rest, []byte("\n\n")); i >= 0 {
		end = i + 2
	}
	n := copy(p, rest[:end])
	r.off += n
	return n, nil
}

func (r *frameReader) Close() error { return nil }

// gunzipReader decodes a shared gzip body for a client that didn't ask
// for gzip; the gzip header is read at the first Read, not before the
// response headers go out.
type gunzipReader struct {
	rc io.ReadCloser
	zr *gzip.Reader
}

func (g *gunzipReader) Read(p []byte) (int, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(g.rc)
		if err != nil {
			return 0, fmt.Errorf("decode shared gzip answer: %w", err)
		}
		g.zr = zr
	}
	return g.zr.Read(p)
}

func (g *gunzipReader) Close() error { return g.rc.Close() }

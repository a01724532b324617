package proxy

import (
	"bytes"
	"compress/gzip"
	"strconv"

	"github.com/ferry-gateway/ferry/storage"
	"io"
	"net/http"
	"strings"
)

// The held API key must never reach a client that authenticated with the
// local token: that client was trusted to spend the key through Ferry, not
// to learn it. An upstream (a relay) that echoes the key back in an error
// body, a 200 body, an SSE frame or a header would hand it over (issue 14).
// RedactKeyBody and RedactKeyHeader remove every exact occurrence of it.
//
// The replacement has the key's length, so a Content-Length stays right
// and JSON and SSE framing stay valid. The pipeline registers
// removeHeldKey as the first response hook of every token-authenticated
// request, which is also offered identity only: an exact match needs the
// bytes unencoded.

// removeHeldKey is the response hook that removes key from what a
// token-authenticated client gets. A body that comes gzipped anyway (an
// upstream that ignored the identity offer) is decoded first; one in an
// encoding Ferry cannot read is refused, since it could hide the key.
func removeHeldKey(key string) ResponseHook {
	return func(res *Response) error {
		RedactKeyHeader(res.Header, key)
		if res.Body == nil {
			return nil
		}
		switch enc := strings.ToLower(strings.TrimSpace(res.Header.Get("Content-Encoding"))); enc {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				return &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: err,
					Message: "the upstream's gzip answer could not be read: " + redact(err.Error())}
			}
			res.Body = readCloser{zr, res.Body}
			res.Header.Del("Content-Encoding")
			res.Header.Del("Content-Length")
		default:
			return &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork,
				Message: "the upstream answered in the " + strconv.Quote(boundedHeader(enc, 32)) +
					" encoding, which Ferry did not ask for and cannot check for the held key"}
		}
		res.Body = RedactKeyBody(res.Body, key)
		return nil
	}
}

// readCloser reads one thing and closes another.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }

// keyMarker fills the place of a removed key, cut or padded with '*' to
// the key's length.
const keyMarker = "[key-removed-by-ferry]"

func keyReplacement(n int) []byte {
	r := []byte(strings.Repeat("*", n))
	copy(r, keyMarker)
	return r
}

// RedactKeyHeader replaces key in every header value of h.
func RedactKeyHeader(h http.Header, key string) {
	if len(key) < minRedactKey {
		return
	}
	repl := string(keyReplacement(len(key)))
	for _, vv := range h {
		for i, v := range vv {
			if strings.Contains(v, key) {
				vv[i] = strings.ReplaceAll(v, key, repl)
			}
		}
	}
}

// minRedactKey: a shorter "key" would match ordinary text; real keys are
// 100 bytes or so.
const minRedactKey = 8

// RedactKeyBody returns body with every occurrence of key replaced, even
// one split across reads. Bytes that cannot be part of the key are passed
// on at once: only a tail of a read that could begin the key is held back
// (never a frame's closing blank line), so streams are not delayed.
// Closing the result closes body. A nil body stays nil.
func RedactKeyBody(body io.ReadCloser, key string) io.ReadCloser {
	if body == nil || len(key) < minRedactKey {
		return body
	}
	return &keyRedactor{src: body, key: []byte(key), repl: keyReplacement(len(key))}
}

type keyRedactor struct {
	src  io.ReadCloser
	key  []byte
	repl []byte

	pend []byte // redacted bytes not yet handed out
	held int    // of pend's tail, bytes that may begin the key
	err  error  // the source's error, returned once pend is empty
}

func (k *keyRedactor) Read(p []byte) (int, error) {
	for {
		if ready := len(k.pend) - k.held; ready > 0 || (k.err != nil && len(k.pend) > 0) {
			if k.err != nil {
				ready = len(k.pend) // the source ended: nothing more can complete the key
			}
			n := copy(p, k.pend[:ready])
			k.pend = k.pend[n:]
			if len(k.pend) == 0 {
				k.pend = nil
				// The end comes with the last bytes, as net/http gives
				// it: the cache stores an answer before its client can
				// see it end (proxy/cache, pump).
				return n, k.err
			}
			return n, nil
		}
		if k.err != nil {
			return 0, k.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		if len(k.pend) == 0 && len(p) >= len(k.key) {
			// Nothing held: read straight into p and redact there (the
			// replacement has the key's length). A copy through a fresh
			// buffer on every read was 5 % of Ferry's CPU in the bench
			// profile.
			n, err := k.src.Read(p)
			k.err = err
			b := p[:n]
			replaceSameLength(b, k.key, k.repl)
			held := 0
			if err == nil {
				held = keyPrefixTail(b, k.key)
			}
			if held > 0 {
				k.pend, k.held = append(k.pend[:0:0], b[n-held:]...), held
			}
			if n-held > 0 || err != nil {
				return n - held, err
			}
			continue
		}
		buf := make([]byte, max(len(p), 4<<10))
		n, err := k.src.Read(buf)
		k.pend = append(k.pend, buf[:n]...)
		k.err = err
		k.redact()
	}
}

// redact replaces whole keys in pend and works out how much of its tail
// could be the start of a key still arriving.
func (k *keyRedactor) redact() {
	replaceSameLength(k.pend, k.key, k.repl)
	k.held = keyPrefixTail(k.pend, k.key)
}

// replaceSameLength replaces every key in b by repl, of the same length.
func replaceSameLength(b, key, repl []byte) {
	for from := 0; ; {
		i := bytes.Index(b[from:], key)
		if i < 0 {
			return
		}
		copy(b[from+i:], repl)
		from += i + len(key)
	}
}

// keyPrefixTail is the length of the longest tail of b, shorter than key,
// that key begins with: those bytes may be the start of a key still
// arriving. Only the places holding the key's first byte are tried.
func keyPrefixTail(b, key []byte) int {
	from := max(0, len(b)-(len(key)-1))
	for j := from; j < len(b); {
		i := bytes.IndexByte(b[j:], key[0])
		if i < 0 {
			return 0
		}
		j += i
		if bytes.HasPrefix(key, b[j:]) {
			return len(b) - j
		}
		j++
	}
	return 0
}

func (k *keyRedactor) Close() error { return k.src.Close() }

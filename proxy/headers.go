package proxy

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
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

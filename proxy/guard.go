package proxy

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-gateway/ferry/storage"
)

// Headers Ferry reads or writes itself.
const (
	headerFerryError   = "X-Ferry-Error"
	headerFerryWarning = "X-Ferry-Warning"
	// headerFerryAttempts and headerFerryRoute tell the client how many
	// upstream attempts its answer took and through which route the last
	// went.
	headerFerryAttempts = "X-Ferry-Attempts"
	headerFerryRoute    = "X-Ferry-Route"
	// headerFerryToken carries the local token when the client also sends
	// its own key (remote access); it never goes upstream.
	headerFerryToken = "X-Ferry-Token"
	// HeaderAdminToken carries the admin token for mutating /_ferry/ calls.
	HeaderAdminToken = "X-Ferry-Admin-Token"
)

const insecureWarning = "TLS certificate verification is off (--insecure-skip-verify): anyone on the road can read and change this traffic"

// hostGuard decides which Host headers are Ferry's own. A web page can
// point a DNS name it controls at 127.0.0.1 (DNS rebinding) and then call
// Ferry with the user's key; its requests carry that name as Host, so only
// loopback names and addresses are accepted.
type hostGuard struct {
	// refusals counts what the guards refuse. It hangs on the first
	// guard because the guards are built together; shared by copies.
	refusals *refusals

	remote     bool
	listenHost string // lower-case, without brackets; "" when none
	anyHost    bool   // remote access on an unspecified address (0.0.0.0, ::)
}

func newHostGuard(listenAddr string, remote bool) hostGuard {
	g := hostGuard{remote: remote, refusals: &refusals{}}
	if !remote {
		return g
	}
	host := listenAddr
	if h, _, err := net.SplitHostPort(listenAddr); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		// Listening on every address: the machine's names and addresses
		// are unknown here. The local token, required on every remote
		// request, is what keeps a rebinding page out.
		g.anyHost = true
	}
	g.listenHost = host
	return g
}

// IsLoopbackHost says whether host (a name or address, without port) can
// only mean this machine: localhost, 127.0.0.0/8 or ::1.
func IsLoopbackHost(host string) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (g hostGuard) allowed(hostHeader string) bool {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if IsLoopbackHost(host) {
		return true
	}
	if g.remote && (g.anyHost || host == g.listenHost) && host != "" {
		return true
	}
	return false
}

// originGuard holds the browser origins allowed to call Ferry.
type originGuard map[string]bool

func newOriginGuard(origins []string) originGuard {
	g := originGuard{}
	for _, o := range origins {
		g[normalOrigin(o)] = true
	}
	return g
}

// normalOrigin lower-cases scheme and host and drops a trailing slash and a
// default port, so "https://App.example.com:443/" matches the browser's
// "https://app.example.com".
func normalOrigin(o string) string {
	o = strings.TrimSpace(o)
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return strings.ToLower(strings.TrimSuffix(o, "/"))
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

// check returns whether the request may go on and, when it carries an
// allowed Origin, that origin (to echo in CORS headers).
func (g originGuard) check(r *http.Request) (origin string, ok bool) {
	vals := r.Header.Values("Origin")
	if len(vals) == 0 {
		return "", true
	}
	o := vals[0]
	if len(vals) > 1 || !g[normalOrigin(o)] {
		return "", false
	}
	return o, true
}

// guard applies the checks every request under Ferry's port passes (API and
// admin alike): Host, then Origin. It returns the allowed origin, if any.
func (p *Proxy) guard(r *http.Request) (string, *Error) {
	if r.Method == http.MethodConnect {
		// A client told to use Ferry as HTTPS_PROXY: say what to do instead.
		return "", &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Class: storage.ClassClient4xx,
			Message: "Ferry is not an HTTP proxy: point the client's base URL at it (ANTHROPIC_BASE_URL=http://127.0.0.1:7856) instead of HTTPS_PROXY"}
	}
	if !p.hosts.allowed(r.Host) {
		return "", &Error{Status: http.StatusMisdirectedRequest, Type: TypePermission, Class: storage.ClassClient4xx,
			Message: "Ferry only answers requests addressed to localhost or 127.0.0.1 (Host header was not a loopback name); this protects your key from web pages using DNS rebinding"}
	}
	origin, ok := p.origins.check(r)
	if !ok {
		return "", &Error{Status: http.StatusForbidden, Type: TypePermission, Class: storage.ClassClient4xx,
			Message: "requests from this browser origin are not allowed; start Ferry with --allow-origin to allow it"}
	}
	// Fetch Metadata: a browser marks what another site's page makes it
	// send. An <img src="http://127.0.0.1:7856/…"> GET carries no Origin,
	// so the Origin guard let it through; Sec-Fetch-Site still says
	// cross-site. Non-browser clients send no such header.
	if site := r.Header.Get("Sec-Fetch-Site"); (site == "cross-site" || site == "same-site") && origin == "" {
		return "", &Error{Status: http.StatusForbidden, Type: TypePermission, Class: storage.ClassClient4xx,
			Message: "requests a browser sends on behalf of another site are not allowed (Sec-Fetch-Site: " + site + "); start Ferry with --allow-origin to allow a page's origin"}
	}
	return origin, nil
}

// corsExpose are the response headers a browser page may read: the ones
// the SDKs look at.
const corsExpose = "request-id, retry-after, x-ferry-error, x-ferry-warning, anthropic-organization-id, " +
	"anthropic-ratelimit-requests-limit, anthropic-ratelimit-requests-remaining, anthropic-ratelimit-requests-reset, " +
	"anthropic-ratelimit-tokens-limit, anthropic-ratelimit-tokens-remaining, anthropic-ratelimit-tokens-reset, " +
	"anthropic-ratelimit-input-tokens-limit, anthropic-ratelimit-input-tokens-remaining, anthropic-ratelimit-input-tokens-reset, " +
	"anthropic-ratelimit-output-tokens-limit, anthropic-ratelimit-output-tokens-remaining, anthropic-ratelimit-output-tokens-reset"

func setCORS(h http.Header, origin string) {
	if origin == "" {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", corsExpose)
	h.Add("Vary", "Origin")
}

// isPreflight reports a CORS preflight: OPTIONS with Origin and
// Access-Control-Request-Method. Ferry answers it itself.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

func writePreflight(w http.ResponseWriter, r *http.Request, origin string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}

// equalSecret compares in constant time; an empty secret never matches.
func equalSecret(got, want string) bool {
	if want == "" || got == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(h http.Header) string {
	a := h.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// authorize decides which key goes upstream and rewrites out (the outgoing
// headers) accordingly. The client's own key passes unchanged; the local
// token, sent as x-api-key or Bearer, is swapped for the real key. It
// returns the key used (for the fingerprint) or a 401.
func (p *Proxy) authorize(path string, out http.Header) (string, *Error) {
	var token, apiKey string
	if p.opts.Keys != nil {
		token, apiKey = p.opts.Keys.LocalToken(), p.opts.Keys.APIKey()
	}
	xKey := out.Get("X-Api-Key")
	bKey := bearer(out)
	fKey := out.Get(headerFerryToken)
	out.Del(headerFerryToken)

	viaKey := equalSecret(xKey, token)
	viaBearer := equalSecret(bKey, token)
	tokenOK := viaKey || viaBearer || equalSecret(fKey, token)
	if p.opts.AllowRemote && !tokenOK {
		return "", unauthorized("Ferry accepts remote requests only with its local token (run `ferry token`), sent as x-api-key, Authorization: Bearer or x-ferry-token")
	}
	if viaKey || viaBearer {
		if apiKey == "" {
			return "", unauthorized("Ferry holds no API key to use with its local token: run `ferry key set`, or send your own key")
		}
		// The token stood for the key: neither header may reach the
		// upstream, the real key goes in x-api-key.
		out.Del("Authorization")
		out.Set("X-Api-Key", apiKey)
		return apiKey, nil
	}
	switch {
	case xKey != "":
		return xKey, nil
	case bKey != "":
		return bKey, nil
	case out.Get("Authorization") != "":
		return out.Get("Authorization"), nil
	}
	if path == "/api/hello" {
		// Claude Code sends HEAD /api/hello at start, without a key, to see
		// whether the base URL answers; it spends nothing.
		return "", nil
	}
	return "", unauthorized("no API key: send your key as x-api-key or Authorization: Bearer, or send Ferry's local token (run `ferry token`) after `ferry key set`")
}

func unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Type: TypeAuthentication, Class: storage.ClassClient4xx, Message: msg}
}

// PlainHTTPWarning is the warning for an API base reached over plain
// http on another host: the key crosses the network in clear. It is ""
// for https and for loopback (a local relay or a test fake).
func PlainHTTPWarning(base *url.URL) string {
	if base == nil || base.Scheme != "http" || IsLoopbackHost(base.Hostname()) {
		return ""
	}
	return "the API base " + base.Host + " is plain http on another host: the API key and every prompt cross the network unencrypted"
}

func plainHTTPWarning(base *url.URL) string { return PlainHTTPWarning(base) }

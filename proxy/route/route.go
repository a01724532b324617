package route

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Route names one way out: URL is "direct", socks5://[user:pass@]host:port
// (host names are resolved by the proxy, as socks5h does, because local DNS
// is often poisoned), http://[user:pass@]host:port or
// https://[user:pass@]host:port (HTTP CONNECT, basic auth).
type Route struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Region is an optional exit-region label ("jp", "us-west"): a sticky
	// account fails over to a route with the same label first.
	Region string `json:"region,omitempty"`
	// HTTP is the protocol with the API host: auto (HTTP/2, falling back
	// to HTTP/1.1 after protocol errors), 1.1 or 2. "" means auto.
	HTTP string `json:"http,omitempty"`
	// KeyShare is the TLS key share offered to the API host: auto (Go's
	// post-quantum default, classic after resets), classic or pq. ""
	// means auto.
	KeyShare string `json:"tls_key_share,omitempty"`
}

// DirectURL is the URL of a route that dials the target itself.
const DirectURL = "direct"

// AutoChoice is the Manager's choice that means "Auto (fastest)". No route
// may be named so.
const AutoChoice = "auto"

type kind int

const (
	kindDirect kind = iota
	kindSOCKS5
	kindHTTP
	kindHTTPS
)

// spec is a parsed, validated route URL.
type spec struct {
	kind    kind
	addr    string // proxy host:port; "" for direct
	host    string // proxy host, for TLS to an https:// proxy
	user    string
	pass    string
	hasAuth bool
	masked  string
}

var defaultPorts = map[kind]string{kindSOCKS5: "1080", kindHTTP: "80", kindHTTPS: "443"}

// Parse validates a route and returns it with its name and URL trimmed.
// An empty name becomes "Direct" for a direct route and the masked URL
// otherwise. A missing port takes the scheme's usual one (socks5 1080, http
// 80, https 443). socks5h:// is accepted as a synonym of socks5://. Every
// error wraps ErrInvalidRoute and says what is wrong.
func Parse(name, raw string) (Route, error) {
	raw = strings.TrimSpace(raw)
	name = strings.TrimSpace(name)
	s, err := parseSpec(raw)
	if err != nil {
		return Route{}, err
	}
	if name == "" {
		if s.kind == kindDirect {
			name = "Direct"
		} else {
			name = s.masked
		}
	}
	if strings.EqualFold(name, AutoChoice) {
		return Route{}, fmt.Errorf("%w: the name %q is reserved for Auto (fastest)", ErrInvalidRoute, name)
	}
	if s.kind == kindDirect {
		raw = DirectURL
	}
	return Route{Name: name, URL: raw}, nil
}

// normalize validates r's URL, name and fields, returning it trimmed.
func normalize(r Route) (Route, error) {
	p, err := Parse(r.Name, r.URL)
	if err != nil {
		return Route{}, err
	}
	for _, kv := range [][2]string{{FieldRegion, r.Region}, {FieldHTTP, r.HTTP}, {FieldKeyShare, r.KeyShare}} {
		if kv[1] == "" {
			continue
		}
		if p, err = p.With(kv[0], kv[1]); err != nil {
			return Route{}, err
		}
	}
	return p, nil
}

func parseSpec(raw string) (spec, error) {
	if raw == "" {
		return spec{}, fmt.Errorf("%w: empty URL (want direct, socks5://host:port, http://host:port or https://host:port)", ErrInvalidRoute)
	}
	if strings.EqualFold(raw, DirectURL) {
		return spec{kind: kindDirect, masked: DirectURL}, nil
	}
	if !strings.Contains(raw, "://") {
		return spec{}, fmt.Errorf("%w: %q has no scheme (want direct, socks5://, http:// or https://)", ErrInvalidRoute, maskRaw(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the whole input, password included: say only
		// what kind of problem it was.
		return spec{}, fmt.Errorf("%w: %s is not a valid URL", ErrInvalidRoute, maskRaw(raw))
	}
	var s spec
	switch strings.ToLower(u.Scheme) {
	case "socks5", "socks5h":
		s.kind = kindSOCKS5
	case "http":
		s.kind = kindHTTP
	case "https":
		s.kind = kindHTTPS
	default:
		return spec{}, fmt.Errorf("%w: unsupported scheme %q (want socks5, http or https)", ErrInvalidRoute, u.Scheme)
	}
	if u.Opaque != "" {
		return spec{}, fmt.Errorf("%w: %s: want scheme://host:port", ErrInvalidRoute, maskURL(u))
	}
	if u.Path != "" && u.Path != "/" {
		return spec{}, fmt.Errorf("%w: %s: a proxy URL has no path", ErrInvalidRoute, maskURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return spec{}, fmt.Errorf("%w: %s: a proxy URL has no query or fragment", ErrInvalidRoute, maskURL(u))
	}
	host := u.Hostname()
	if host == "" {
		return spec{}, fmt.Errorf("%w: %s: missing host", ErrInvalidRoute, maskURL(u))
	}
	port := u.Port()
	if port == "" {
		if strings.HasSuffix(u.Host, ":") {
			return spec{}, fmt.Errorf("%w: %s: empty port", ErrInvalidRoute, maskURL(u))
		}
		port = defaultPorts[s.kind]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return spec{}, fmt.Errorf("%w: %s: port %q is not a number from 1 to 65535", ErrInvalidRoute, maskURL(u), port)
	}
	s.host = host
	s.addr = net.JoinHostPort(host, port)
	if u.User != nil {
		s.hasAuth = true
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" {
			return spec{}, fmt.Errorf("%w: %s: credentials without a user name", ErrInvalidRoute, maskURL(u))
		}
		if s.kind == kindSOCKS5 && (len(s.user) > 255 || len(s.pass) > 255) {
			return spec{}, fmt.Errorf("%w: %s: SOCKS5 user name and password are limited to 255 bytes", ErrInvalidRoute, maskURL(u))
		}
	}
	s.masked = maskURL(u)
	return s, nil
}

// Masked returns the route's URL with the password replaced by "***", fit
// for logs, errors and the UI: socks5://alice:***@127.0.0.1:1080.
func (r Route) Masked() string {
	raw := strings.TrimSpace(r.URL)
	if strings.EqualFold(raw, DirectURL) {
		return DirectURL
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		return maskRaw(raw)
	}
	return maskURL(u)
}

func maskURL(u *url.URL) string {
	if u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	user := url.PathEscape(u.User.Username())
	if _, ok := u.User.Password(); ok {
		return u.Scheme + "://" + user + ":***@" + u.Host
	}
	return u.Scheme + "://" + user + "@" + u.Host
}

// maskRaw masks a string that did not parse as a URL: everything before
// the last '@' may hold a password, so only the scheme and what follows the
// '@' survive.
func maskRaw(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	scheme := ""
	if i := strings.Index(raw, "://"); i >= 0 && i < at {
		scheme = raw[:i+3]
	}
	return scheme + "***@" + raw[at+1:]
}

func (r Route) isDirect() bool { return strings.EqualFold(strings.TrimSpace(r.URL), DirectURL) }

package route

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// FromEnvironment picks the route the standard proxy variables ask for when
// reaching target: HTTPS_PROXY/https_proxy for an https target
// (HTTP_PROXY/http_proxy for an http one), then ALL_PROXY/all_proxy; socks5
// and socks5h URLs are allowed in any of them, and a value without a scheme
// means http://. NO_PROXY/no_proxy lists exemptions: "*", host names (with
// or without a leading dot or "*.", matching the name and its
// subdomains), IP addresses, CIDR ranges, each optionally with ":port".
//
// Unlike http.ProxyFromEnvironment, loopback targets are not silently
// exempted: only NO_PROXY exempts anything. The route is named
// "env (<masked url>)", or "direct" with URL "direct" when nothing applies.
func FromEnvironment(getenv func(string) string, target *url.URL) (Route, error) {
	direct := Route{Name: "direct", URL: DirectURL}
	if target == nil {
		return Route{}, fmt.Errorf("%w: no target URL to choose a proxy for", ErrInvalidRoute)
	}
	var raw, from string
	pick := func(names ...string) {
		for _, n := range names {
			if raw != "" {
				return
			}
			if v := strings.TrimSpace(getenv(n)); v != "" {
				raw, from = v, n
			}
		}
	}
	if strings.EqualFold(target.Scheme, "http") {
		pick("HTTP_PROXY", "http_proxy")
	} else {
		pick("HTTPS_PROXY", "https_proxy")
	}
	pick("ALL_PROXY", "all_proxy")
	if raw == "" {
		return direct, nil
	}
	noProxy := getenv("NO_PROXY")
	if noProxy == "" {
		noProxy = getenv("no_proxy")
	}
	if noProxyMatch(noProxy, target) {
		return direct, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	s, err := parseSpec(raw)
	if err != nil {
		return Route{}, fmt.Errorf("%s: %w", from, err)
	}
	if s.kind == kindDirect {
		return direct, nil
	}
	return Route{Name: "env (" + s.masked + ")", URL: raw}, nil
}

// noProxyMatch reports whether the NO_PROXY list exempts target.
func noProxyMatch(list string, target *url.URL) bool {
	host := strings.ToLower(strings.TrimSuffix(target.Hostname(), "."))
	port := hostPortOnly(target)
	ip := net.ParseIP(host)
	for _, entry := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		entry = strings.ToLower(strings.TrimSpace(entry))
		if entry == "" {
			continue
		}
		if entry == "*" {
			return true
		}
		if _, cidr, err := net.ParseCIDR(entry); err == nil {
			if ip != nil && cidr.Contains(ip) {
				return true
			}
			continue
		}
		eHost, ePort := entry, ""
		if h, p, err := net.SplitHostPort(entry); err == nil {
			eHost, ePort = h, p
		} else if strings.HasPrefix(entry, "[") && strings.HasSuffix(entry, "]") {
			eHost = entry[1 : len(entry)-1]
		}
		if ePort != "" && ePort != port {
			continue
		}
		if eIP := net.ParseIP(eHost); eIP != nil {
			if ip != nil && eIP.Equal(ip) {
				return true
			}
			continue
		}
		eHost = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(eHost, "*"), "."), ".")
		if eHost == "" {
			continue
		}
		if host == eHost || strings.HasSuffix(host, "."+eHost) {
			return true
		}
	}
	return false
}

func hostPortOnly(target *url.URL) string {
	_, p, _ := net.SplitHostPort(hostPort(target))
	return p
}

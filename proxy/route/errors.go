package route

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrInvalidRoute wraps every error Parse returns: the route's URL or
	// name cannot be used.
	ErrInvalidRoute = errors.New("invalid route")
	// ErrUnknownRoute means a Manager has no route of that name.
	ErrUnknownRoute = errors.New("no such route")
	// ErrDuplicateRoute means a route of that name already exists
	// (names compare case-insensitively).
	ErrDuplicateRoute = errors.New("a route with that name already exists")
	// ErrViaRoute means the change would touch the --via route, which lasts
	// for this run only and is not stored.
	ErrViaRoute = errors.New("the --via route is fixed for this run")
	// ErrLastRoute means the change would leave no stored route.
	ErrLastRoute = errors.New("cannot remove the last route; add another one first")
	// ErrNoRoute means there is no usable route to choose.
	ErrNoRoute = errors.New("no usable route")
	// ErrProxyStatus is wrapped in a DialError's Err when an HTTP proxy
	// answered CONNECT with a non-2xx status.
	ErrProxyStatus = errors.New("proxy refused CONNECT")
	// ErrSOCKSReply is wrapped in a DialError's Err when a SOCKS5 proxy
	// rejected the handshake or the connect request.
	ErrSOCKSReply = errors.New("SOCKS5 proxy refused")
)

// Stage says where a dial failed. Its value is a short human phrase, so it
// can appear in messages as is.
type Stage string

const (
	// StageProxyConnect: the TCP connection to the proxy was refused or
	// the proxy's address is unreachable.
	StageProxyConnect Stage = "proxy unreachable or refused"
	// StageProxyAuth: the proxy rejected the credentials (HTTP 407, SOCKS5
	// username/password failure or no acceptable auth method).
	StageProxyAuth Stage = "proxy rejected the credentials"
	// StageProxyHandshake: the proxy answered, but not as a working proxy
	// (protocol error, TLS to an https:// proxy failed, CONNECT denied).
	StageProxyHandshake Stage = "proxy handshake failed"
	// StageDNS: the proxy's host name (or the target's, for direct routes)
	// did not resolve on this machine.
	StageDNS Stage = "DNS lookup failed"
	// StageTargetConnect: the target could not be reached: the proxy said
	// so (HTTP 5xx to CONNECT, SOCKS5 host/network unreachable, refused),
	// or for a direct route the target refused or was unreachable.
	StageTargetConnect Stage = "target unreachable or refused"
	// StageConnectTimeout: connecting (to the proxy, through it, or
	// directly) took longer than DialOptions.ConnectTimeout.
	StageConnectTimeout Stage = "connect timed out"
)

// DialError is what every dial of an Upstream returns on failure, wrapped
// by http.Transport.RoundTrip; find it with errors.As.
type DialError struct {
	Route  string // route name
	Proxy  string // proxy URL with credentials masked; "" for direct routes
	Target string // host:port being reached
	Stage  Stage
	Err    error
}

func (e *DialError) Error() string {
	if e.Proxy == "" {
		return fmt.Sprintf("route %q: direct to %s: %s: %v", e.Route, e.Target, e.Stage, e.Err)
	}
	return fmt.Sprintf("route %q: proxy %s to %s: %s: %v", e.Route, e.Proxy, e.Target, e.Stage, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// Timeout reports whether the dial failed by running out of time, so a
// DialError satisfies net.Error-style checks.
func (e *DialError) Timeout() bool { return e.Stage == StageConnectTimeout }

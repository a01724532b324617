package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/ferry-gateway/ferry/proxy/reply"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/storage"
)

// Sentinel errors, found with errors.Is.
var (
	// ErrFirstByteTimeout is the cause of an upstream request cancelled
	// because its response headers did not come within FirstByteTimeout.
	ErrFirstByteTimeout = errors.New("first-byte timeout")
	// ErrIdleTimeout is the cause of an exchange cancelled because no bytes
	// moved for IdleTimeout.
	ErrIdleTimeout = errors.New("idle timeout")
	// ErrStreamFirstByteTimeout is the cause of a streaming request
	// cancelled because its response headers did not come within
	// StreamFirstByteTimeout; it is an ErrFirstByteTimeout.
	ErrStreamFirstByteTimeout = fmt.Errorf("stream %w", ErrFirstByteTimeout)
	// ErrStreamStalled is the cause of an event stream ended because it
	// was silent for StreamIdleTimeout.
	ErrStreamStalled = errors.New("event stream stalled")
	// ErrClientGone means the client closed its connection or cancelled
	// the request.
	ErrClientGone = errors.New("client went away")
	// ErrNoLocalToken is returned by New when AllowRemote is set but
	// there is no local token to require.
	ErrNoLocalToken = errors.New("remote access needs a local token")
)

// StatusOverloaded is Anthropic's "overloaded" status, which Ferry also
// answers when its own limits are reached (connections, buffered bytes):
// the SDKs retry it after retry-after.
const StatusOverloaded = 529

// StatusClientClosed is recorded (never written) when the client went away
// before the exchange ended, as nginx and Caddy do.
const StatusClientClosed = 499

// Anthropic error.type values Ferry uses (reply owns them; these names
// stay for the proxy's callers).
const (
	TypeInvalidRequest  = reply.TypeInvalidRequest
	TypeAuthentication  = reply.TypeAuthentication
	TypePermission      = reply.TypePermission
	TypeNotFound        = reply.TypeNotFound
	TypeRequestTooLarge = reply.TypeRequestTooLarge
	TypeRateLimit       = reply.TypeRateLimit
	TypeAPI             = reply.TypeAPI
	TypeTimeout         = reply.TypeTimeout
	TypeOverloaded      = reply.TypeOverloaded
	// typeClientClosed is recorded for a client that went away; it is
	// never sent.
	typeClientClosed = "client_closed_request"
)

// Error is a response Ferry gives itself, in Anthropic's error shape and
// with the x-ferry-error header. RequestHooks return one to refuse a
// request.
type Error struct {
	Status  int
	Type    string // Anthropic error.type
	Message string // says what failed and where; never holds a secret
	// Class is recorded; zero means ClassClient4xx below 500 and
	// ClassFerry otherwise.
	Class storage.ErrorClass
	// Header holds extra response headers (retry-after).
	Header http.Header
	// Err is the cause, for logs and errors.Is/As. It is not sent.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Type, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) class() storage.ErrorClass {
	switch {
	case e.Class != "":
		return e.Class
	case e.Status < 500:
		return storage.ClassClient4xx
	default:
		return storage.ClassFerry
	}
}

// errorFor is the one place that maps a failed exchange to what the client
// is told (Caddy's reverse proxy does the same in one function): 502 by
// default, 504 on timeouts, 499 when the client left. clientCtx is the
// client's request context, ctx the upstream request's (whose cause tells a
// timeout from a cancellation). where names the route and target for
// messages.
func errorFor(clientCtx, ctx context.Context, err error, where target) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		return fe
	}
	if clientCtx.Err() != nil || errors.Is(err, ErrClientGone) {
		return &Error{Status: StatusClientClosed, Type: typeClientClosed, Class: storage.ClassClient4xx,
			Message: "the client closed the request", Err: err}
	}
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, ErrStreamFirstByteTimeout) || errors.Is(err, ErrStreamFirstByteTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Type: TypeTimeout, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("no response headers from %s within %s via route %q for a streaming request (road.stream_first_byte_timeout)", where.host, where.streamFirstByte, where.route)}
	case errors.Is(cause, ErrStreamStalled) || errors.Is(err, ErrStreamStalled):
		// Issue 9 asks for timeout_error, the truth. What Claude Code does
		// with it (read in @anthropic-ai/claude-code 2.1.197, the bundled
		// cli of claude-code-linux-x64): its retry rule for API errors
		// retries a mid-stream error frame only when the message contains
		// "type":"overloaded_error" (`if(e.message?.includes('"type":
		// "overloaded_error"'))return!0`); such an APIError has no status,
		// so the 408/409/429/5xx rules after it never match, and a
		// timeout_error frame ends the turn with "API Error" shown, which
		// the user re-sends at once instead of waiting 5 minutes. Ferry
		// does not disguise it as overloaded_error: three of those in a row
		// make Claude Code fall back to another model ("repeated_529").
		return &Error{Status: http.StatusGatewayTimeout, Type: TypeTimeout, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("the event stream from %s via route %q was silent for %s; Ferry ended it (road.stream_idle_timeout)", where.host, where.route, where.streamIdle)}
	case errors.Is(cause, ErrFirstByteTimeout) || errors.Is(err, ErrFirstByteTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Type: TypeTimeout, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("no response from %s within %s via route %q (--first-byte-timeout)", where.host, where.firstByte, where.route)}
	case errors.Is(cause, ErrIdleTimeout) || errors.Is(err, ErrIdleTimeout):
		return &Error{Status: http.StatusGatewayTimeout, Type: TypeTimeout, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("no data moved for %s between Ferry and %s via route %q (--idle-timeout)", where.idle, where.host, where.route)}
	}
	if isLostPing(err) {
		return &Error{Status: http.StatusGatewayTimeout, Type: TypeTimeout, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("the HTTP/2 connection to %s via route %q stopped answering pings (road.h2_ping_timeout); Ferry ended its streams", where.host, where.route)}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	var de *route.DialError
	if errors.As(err, &de) {
		return dialErrorFor(de)
	}
	if msg, ok := tlsProblem(err); ok {
		return &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("TLS with %s via route %q failed: %s; if your network or relay uses its own certificate authority, give its certificate with --ca-file",
				where.host, where.route, redact(msg))}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("cannot resolve %s via route %q: %s", dnsErr.Name, where.route, redact(dnsErr.Err))}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Status: http.StatusGatewayTimeout, Type: TypeTimeout, Class: storage.ClassNetwork, Err: err,
			Message: fmt.Sprintf("talking to %s via route %q timed out: %s", where.host, where.route, redact(err.Error()))}
	}
	return &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: err,
		Message: fmt.Sprintf("request to %s via route %q failed: %s", where.host, where.route, redact(err.Error()))}
}

// target describes where an exchange went, for error messages.
type target struct {
	route           string
	host            string
	firstByte       string
	idle            string
	streamFirstByte string
	streamIdle      string
}

func dialErrorFor(de *route.DialError) *Error {
	e := &Error{Status: http.StatusBadGateway, Type: TypeAPI, Class: storage.ClassNetwork, Err: de}
	detail := redact(fmt.Sprint(de.Err))
	via := fmt.Sprintf("upstream proxy %s (route %q)", de.Proxy, de.Route)
	if de.Proxy == "" {
		via = fmt.Sprintf("route %q (direct)", de.Route)
	}
	switch de.Stage {
	case route.StageProxyConnect:
		e.Message = fmt.Sprintf("%s refused the connection or is unreachable: %s", via, detail)
	case route.StageProxyAuth:
		e.Message = fmt.Sprintf("%s: the proxy rejected the credentials; check the user name and password in the route", via)
	case route.StageProxyHandshake:
		e.Message = fmt.Sprintf("%s: proxy handshake failed: %s", via, detail)
	case route.StageDNS:
		e.Message = fmt.Sprintf("%s: DNS lookup failed: %s", via, detail)
	case route.StageTargetConnect:
		if de.Proxy == "" {
			e.Message = fmt.Sprintf("%s: cannot connect to %s: %s", via, de.Target, detail)
		} else {
			e.Message = fmt.Sprintf("%s could not reach %s: %s", via, de.Target, detail)
		}
	case route.StageConnectTimeout:
		e.Status, e.Type = http.StatusGatewayTimeout, TypeTimeout
		e.Message = fmt.Sprintf("%s: connecting to %s timed out (--connect-timeout)", via, de.Target)
	default:
		e.Message = fmt.Sprintf("%s: %s: %s", via, de.Stage, detail)
	}
	return e
}

// tlsProblem reports whether err is a failed TLS handshake or certificate
// check, with a short description.
func tlsProblem(err error) (string, bool) {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		alert    tls.AlertError
	)
	switch {
	case errors.As(err, &unknown):
		return "certificate signed by an unknown authority", true
	case errors.As(err, &hostname):
		return hostname.Error(), true
	case errors.As(err, &invalid):
		return invalid.Error(), true
	case errors.As(err, &verify):
		return verify.Err.Error(), true
	case errors.As(err, &record):
		return "the server did not answer with TLS (wrong scheme or port in --api-base?)", true
	case errors.As(err, &alert):
		return "handshake refused: " + alert.Error(), true
	}
	return "", false
}

func tooLarge(limit int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Type: TypeRequestTooLarge, Class: storage.ClassClient4xx,
		Message: fmt.Sprintf("request body is larger than Ferry's limit of %d bytes", limit)}
}

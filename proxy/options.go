package proxy

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// Defaults for Options fields left zero.
const (
	DefaultFirstByteTimeout = 10 * time.Minute
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultMaxBody          = 32 << 20
	DefaultMaxBodyLarge     = 500 << 20
	DefaultDrainTimeout     = 30 * time.Second
	// DefaultStreamIdleTimeout and DefaultStreamFirstByteTimeout are the
	// defaults of road.stream_idle_timeout and
	// road.stream_first_byte_timeout.
	DefaultStreamIdleTimeout      = 90 * time.Second
	DefaultStreamFirstByteTimeout = 120 * time.Second
)

// Options configure a Proxy. Every field may be left zero; each says what
// zero or nil means.
type Options struct {
	// APIBase is where requests go; the request's path is appended to its
	// path and the query kept. Nil means https://api.anthropic.com.
	APIBase *url.URL

	// Routes picks the upstream route (and its pooled Transport) for each
	// request. Nil means one direct route with the system's CA roots.
	Routes route.Chooser

	// FirstByteTimeout bounds the wait for the upstream's response headers
	// once the request is sent. Zero means 10 minutes: a non-streaming call
	// may think that long before answering.
	FirstByteTimeout time.Duration
	// IdleTimeout bounds the silence between two reads of the response body
	// (and of a streamed request body). It is reset by every read; there is
	// no total timeout. Zero means 5 minutes. Event streams of
	// /v1/messages follow StreamIdleTimeout instead.
	IdleTimeout time.Duration
	// StreamIdleTimeout (road.stream_idle_timeout) bounds the silence of
	// an Anthropic event stream. Claude Code watches for a silent stream
	// itself only when it talks to Anthropic directly; behind a gateway it
	// waits 5 minutes, so Ferry ends a stream silent this long with its
	// open blocks closed and a timeout_error frame naming the route. The
	// API pings every few seconds, so silence means a dead road. Zero
	// means 90 s.
	StreamIdleTimeout time.Duration
	// StreamFirstByteTimeout (road.stream_first_byte_timeout) bounds the
	// wait for the response headers of a streaming request ("stream":
	// true); it is a road failure, retried like one. A 1M-token prompt may
	// take a while before its headers. Zero means 120 s.
	StreamFirstByteTimeout time.Duration
	// OnStall hears that a stream on route was ended by Ferry for
	// silence (road metrics); nil hears nothing.
	OnStall func(route string)

	// MaxBody is the largest request body accepted, except on the large
	// endpoints below. Zero means 32 MB. Such bodies are read whole before
	// forwarding.
	MaxBody int64
	// MaxBodyLarge is the limit for /v1/files and /v1/messages/batches,
	// whose bodies are streamed upstream without buffering. Zero means
	// 500 MB.
	MaxBodyLarge int64

	// ListenAddr is the address Ferry listens on. With AllowRemote, a Host
	// header naming it is accepted besides loopback names. Empty means
	// only loopback names are accepted.
	ListenAddr string
	// AllowRemote accepts requests from the network: the listen address is
	// a valid Host and the local token is required on every request
	// (x-api-key, Authorization: Bearer or x-ferry-token), admin included.
	// New fails when it is set and Keys has no local token.
	AllowRemote bool
	// AllowOrigins are the browser origins (scheme://host[:port]) allowed
	// to call Ferry. A request carrying any other Origin is refused. Nil
	// means no browser may.
	AllowOrigins []string

	// Keys gives the local token and the real API key. Nil means Ferry
	// holds neither: every client must send its own key.
	Keys Keys
	// AdminToken returns the token mutating admin endpoints require in the
	// x-ferry-admin-token header. Nil, or a func returning "", means every
	// mutating admin request is refused.
	AdminToken func() string

	// InsecureSkipVerify only adds the x-ferry-warning header to every
	// response; the route's transport is what skips verification.
	InsecureSkipVerify bool

	// Observe builds the per-request Observer (usage metering). Nil means
	// none: records carry only what the proxy itself knows.
	Observe ObserverFactory
	// Recorder receives one Record per API request. Nil means records are
	// not kept.
	Recorder Recorder
	// Bus receives RequestFinished and StateChanged events. Nil means no
	// events are published.
	Bus *events.Bus
	// Logger receives one line per request. Nil means slog.Default().
	Logger *slog.Logger
	// Version is reported by /_ferry/health. Empty means "dev".
	Version string

	// Stages are the guards on the way out, run in Phase order (see
	// pipeline.go; within a phase, in the order listed). Nil means none.
	Stages []Stage
	// Key computes the canonical request key once, after the request
	// filters (Outgoing.Key). Nil means requests have none.
	Key KeyFunc
	// KeyPrep, with Key, computes a large body's key ahead, beside the
	// request filters (see keyprep.go): it reads what it needs of the
	// request at once and returns the work to run on another goroutine
	// (nil: none); Key finds the result with Outgoing.KeyPrep. Nil means
	// Key does it all.
	KeyPrep func(out *Outgoing) func() any
	// Retry decides on further attempts after a failed one (retry and
	// failover before the first byte). Nil means one attempt, as the
	// transport makes it.
	Retry RetryPolicy

	// DrainTimeout bounds the graceful drain of Serve when its context
	// ends. Zero means 30 s.
	DrainTimeout time.Duration
}

// Keys gives the secrets the proxy swaps. Implementations must be safe for
// concurrent use; they are asked on every request, so a changed key takes
// effect at once.
type Keys interface {
	// LocalToken is the token clients send instead of the real key; ""
	// when there is none.
	LocalToken() string
	// APIKey is the real key Ferry swaps in for the local token; "" when
	// Ferry holds no key.
	APIKey() string
}

// Observer watches one exchange's response as it flows to the client (the
// usage meter implements it). Its methods are called from the request's
// goroutine, one at a time.
type Observer interface {
	// Response is called once, when the upstream's headers arrive (or a
	// RequestHook answered); not at all when none arrived.
	Response(status int, h http.Header)
	// Write receives the response body bytes exactly as sent to the client
	// (still content-encoded), including frames Ferry added to repair a
	// broken stream. It must never block or fail.
	Write(p []byte) (int, error)
	// Done ends the exchange: the observer fills in what it learnt (model,
	// tokens, cost, first token, error type from an error body …) into rec.
	Done(rec *storage.Record)
}

// SummaryReader is an Observer that can take an Anthropic event stream's
// usage frames from the proxy's own scan (see sse.Summary) instead of
// scanning the bytes again. UseSummary is called after Response for a
// stream the proxy scans; returning true means the observer needs no
// stream bytes, and Summary is then called once, before Done. The clock it
// returns dates the first content delta (the meter's time of the write
// that carried it).
type SummaryReader interface {
	UseSummary() (clock func() time.Time, ok bool)
	Summary(s *sse.Summary)
}

// ObserverFactory makes the Observer of one request. body is the request
// body, nil when it was streamed rather than buffered (or never read because
// a guard refused the request first). It may return nil for "no observer".
type ObserverFactory func(r *http.Request, body []byte, start time.Time) Observer

// Recorder keeps records. It must never block (storage.Recorder queues).
type Recorder interface {
	Record(rec storage.Record)
}

// Outgoing is a request on its way through the pipeline, as the stages,
// the key function and the retry policy see it. It also carries the
// per-request state they share (Set/Value, OnResponse, Annotate, Refuse).
type Outgoing struct {
	Method   string
	Path     string // the client's path, e.g. /v1/messages
	RawQuery string
	// Header is what will be sent upstream: hop-by-hop and x-ferry-*
	// headers gone, the real key already in place, Accept-Encoding
	// settled (a response filter that needs plain text may set identity).
	// It holds credentials: never log it.
	Header http.Header
	// Body is the whole request body, or nil when it is streamed (files,
	// batches: Streamed is true, and such a request is never retried). A
	// stage may replace it; Content-Length follows. Replace it only to
	// change what must change: re-serialised JSON breaks thinking-block
	// signatures.
	Body     []byte
	Streamed bool
	Model    string // from the request JSON, "" if none
	Stream   bool   // "stream": true in the request JSON
	// Key is the canonical request key (Options.Key), computed once after
	// PhaseFilter; "" before that or when the request has none.
	Key string
	// KeyFingerprint is the short hash of the key that will be used.
	KeyFingerprint string
	// Client is the client's User-Agent.
	Client string
	// Session is Claude Code's X-Claude-Code-Session-Id, "" if none.
	Session string
	// Arrived is when the request reached Ferry.
	Arrived time.Time
	// ID is Ferry's request id.
	ID string
	// Ferry holds the x-ferry-* switches the client sent (x-ferry-cache:
	// bypass, …), removed from Header so none goes upstream; never the
	// x-ferry-token or admin token. Values are cut to 64 bytes; nil when
	// none came.
	Ferry http.Header

	refusal    *Error
	values     map[any]any
	respHooks  []respHook
	notes      []func(*storage.Record)
	attemptCtx context.Context
	prep       *keyPrep
}

// Credential is the full credential that will be sent upstream (x-api-key
// or the Bearer token), "" if none. Never log or store it.
func (o *Outgoing) Credential() string {
	if k := o.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	if a := o.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return a[7:]
	}
	return ""
}

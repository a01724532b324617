package proxy

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/storage"
)

// The request pipeline. Its order is the design's, decided once (issue 8)
// and written here only; the README draws it.
//
// On the way out:
//
//	guards (Host, Origin, Fetch-Metadata, auth, size)       built in
//	PhaseFilter     request filters: redact, block
//	                the canonical request key (Options.Key)  built in, once
//	PhaseBrake      runaway brake (sees cache hits too)
//	PhaseBudget     budgets: a refusal is deferred (Outgoing.Refuse)
//	PhaseCache      dedup cache lookup and coalescing
//	                deferred refusals applied                built in
//	PhaseRateLimit  local rate limit
//	PhaseQueue      concurrency queue
//	                attempts: retry and failover (Options.Retry, Routes)
//	                upstream
//
// On the way back (response hooks, registered by stages with
// Outgoing.OnResponse, run before the response headers go to the client):
//
//	RespFilter      response filters (rewrite text_delta frames)
//	RespCacheFill   cache fill (tee into an entry)
//	                the meter (Observer) sees what the client is sent
//
// A stage that answers (cache hit, coalesced follower) ends the way out
// there: the rate limit, the queue and the deferred budget refusal never
// see it, since it costs nothing. The brake runs before and counts it.

// Phase is a stage's place on the way out.
type Phase int

const (
	PhaseFilter Phase = iota + 1
	PhaseBrake
	PhaseBudget
	PhaseCache
	PhaseRateLimit
	PhaseQueue
)

// ResponsePhase is a response hook's place on the way back.
type ResponsePhase int

const (
	RespFilter ResponsePhase = iota + 1
	RespCacheFill
)

// Stage is one guard on the way out. Run sees the request after the
// stages of earlier phases (and, within a phase, those listed before it in
// Options.Stages). It returns:
//   - (nil, nil) to let the request go on, possibly with out.Body or
//     out.Header changed, or a response hook registered;
//   - (res, nil) to answer it itself (cache hit): the response is relayed
//     like an upstream one;
//   - (nil, err) to refuse it: an *Error (filter block 400, rate limit 429
//     with retry-after, budget 400) is written as is, any other error
//     becomes a 500 api_error from Ferry.
//
// ctx ends when the client goes away. Stages run on the request's
// goroutine; a stage may block (the queue does) but must honour ctx.
type Stage struct {
	Phase Phase
	Name  string // for logs and errors
	Run   func(ctx context.Context, out *Outgoing) (*Response, error)
}

// ResponseHook sees a response before its headers go to the client. It
// may change res.Header and replace res.Body (keeping the contract that
// Body is closed once); returning an error turns the response into
// Ferry's error (only before anything was written, which is always the
// case here).
type ResponseHook func(res *Response) error

// Response is an answer on its way back to the client: the upstream's,
// or one a stage gave.
type Response struct {
	Status int         // zero means 200
	Header http.Header // what the client will get (hop-by-hop removed later)
	// Body is relayed with a flush per read; nil means no body. The relay
	// closes it.
	Body io.ReadCloser
	// CacheHit marks a response served from the cache (stored answer);
	// Coalesced one shared with a duplicate in flight. Either costs
	// nothing upstream.
	CacheHit  bool
	Coalesced bool
	// Upstream is set by the attempt that got this response; nil when a
	// stage answered. Route is its route's name.
	Upstream *route.Upstream
	// FirstByte is the time from the request's arrival to these headers.
	FirstByte time.Duration

	ctx     context.Context // the attempt's: its cause names a timeout
	length  int64           // the upstream's Content-Length, -1 unknown
	hooked  bool            // response hooks ran: they may have changed the length
	trailer http.Header
}

// KeyFunc computes the canonical request key (see Outgoing.Key) once,
// after the request filters. It returns "" for a request that has none
// (no buffered body, a path nothing compares).
type KeyFunc func(out *Outgoing) string

// AttemptResult is what one upstream attempt came to, as the retry policy
// and the chooser's report see it.
type AttemptResult struct {
	Route string
	// Class is "" for an attempt that got response headers, else the
	// road failure: see the Class* constants.
	Class  string
	Status int         // the upstream's status, when headers came
	Header http.Header // the upstream's headers, when they came
	Sent   bool        // the request may have reached the upstream
	// ErrorBody is the start of a 429's body (at most 8 KB), read so the
	// retry policy can tell a spend or quota limit from a rate limit; the
	// client still gets every byte.
	ErrorBody []byte
	Err       error // the failure, nil when headers came
	Elapsed   time.Duration
}

// Road failure classes of an attempt.
const (
	ClassConnect        = "connect"         // TCP connect to the route's proxy or the API failed
	ClassProxyHandshake = "proxy_handshake" // SOCKS5 / CONNECT refused or failed
	ClassTLS            = "tls"             // TLS handshake failed or was reset
	ClassReset          = "reset"           // connection reset or EOF before the response headers
	ClassFirstByte      = "first_byte"      // first-byte timeout
	ClassStatus         = "status"          // headers came with a retryable status (5xx, 529, 429)
)

// RetryDecision is a RetryPolicy's answer after a failed attempt.
type RetryDecision struct {
	Again bool          // make another attempt
	Wait  time.Duration // backoff before it
	// Failover moves to the next candidate route; false retries on the
	// same one (5xx, 529).
	Failover bool
}

// RetryPolicy decides on further attempts. n is the number of attempts
// made so far (1 after the first); since is the time since the request
// arrived. It is consulted only before anything was relayed, and never
// for a streamed upload (files, batches: its bytes are gone).
type RetryPolicy interface {
	Decide(out *Outgoing, n int, last AttemptResult, since time.Duration) RetryDecision
}

// stateKey is the type of Outgoing's shared values' keys.
type stateKey struct{ name string }

// NewStateKey makes a key for Outgoing.Set/Value; one per concept,
// declared by the package that owns the value.
func NewStateKey(name string) any { return &stateKey{name} }

// Refuse defers a refusal (a hard budget): it is written only if no
// later stage answers (a cache hit costs nothing and is served anyway).
// The first refusal wins.
func (o *Outgoing) Refuse(e *Error) {
	if o.refusal == nil {
		o.refusal = e
	}
}

// Set stores a per-request value that later stages and response hooks
// of the same request may read.
func (o *Outgoing) Set(key, value any) {
	if o.values == nil {
		o.values = make(map[any]any, 4)
	}
	o.values[key] = value
}

// Value reads a per-request value set by an earlier stage; nil if none.
func (o *Outgoing) Value(key any) any { return o.values[key] }

// OnResponse registers a response hook of this request. Hooks run in
// ResponsePhase order, then in the order registered.
func (o *Outgoing) OnResponse(ph ResponsePhase, h ResponseHook) {
	o.respHooks = append(o.respHooks, respHook{ph, h})
}

// Annotate registers a change to the request's record, made when the
// request is accounted (after the meter filled in usage and cost). Each
// record field has one owner (see storage.Record): a stage annotates only
// its own fields.
func (o *Outgoing) Annotate(f func(rec *storage.Record)) {
	o.notes = append(o.notes, f)
}

// Detach runs the attempts under ctx instead of the client's request
// context: the cache's coalescing keeps one upstream attempt going for
// every client of its group, even if the first one leaves.
func (o *Outgoing) Detach(ctx context.Context) { o.attemptCtx = ctx }

type respHook struct {
	phase ResponsePhase
	hook  ResponseHook
}

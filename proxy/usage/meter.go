package usage

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/sse"
	"github.com/ferry-gateway/ferry/storage"
)

// DefaultMaxBody is how much of a non-streaming body (or of a compressed
// body) a Meter keeps to read usage from. Messages are far smaller; a body
// beyond it is passed on untouched and its usage recorded as unknown.
const DefaultMaxBody = 8 << 20

// maxErrorBody bounds what a Meter keeps of a non-2xx body: error bodies
// are a few hundred bytes, and a proxy's HTML error page needs no more.
const maxErrorBody = 64 << 10

// MetersOptions configure NewMeters.
type MetersOptions struct {
	// Prices prices each request. nil means the default table.
	Prices *Prices
	// Headroom receives the anthropic-ratelimit-* headers of every
	// response. nil means none are kept.
	Headroom *HeadroomTracker
	// MaxBody caps what one Meter buffers; 0 means DefaultMaxBody.
	MaxBody int
	// Now is the clock for first-token times. nil means time.Now.
	Now func() time.Time
	// Logger receives the rare internal failure (a recovered panic). nil
	// discards.
	Logger *slog.Logger
	// Settings keeps the batch ledger (BatchLedgerKey), so that results
	// downloaded again after a restart count nothing. nil keeps it for this
	// run only.
	Settings Settings
}

// Meters makes a Meter for each request. It is safe for concurrent use.
type Meters struct {
	prices  *Prices
	limits  *HeadroomTracker
	maxBody int
	now     func() time.Time
	log     *slog.Logger

	ledger *BatchLedger
}

// NewMeters returns a Meter factory.
func NewMeters(o MetersOptions) *Meters {
	if o.Prices == nil {
		o.Prices = DefaultPrices()
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Meters{prices: o.Prices, limits: o.Headroom, maxBody: o.MaxBody, now: o.Now, log: o.Logger,
		ledger: NewBatchLedger(o.Settings, o.Logger)}
}

// Prices returns the table the meters price with.
func (ms *Meters) Prices() *Prices { return ms.prices }

// NewObserver returns the Meter for one request. Its signature matches
// proxy.ObserverFactory except for the result type, so the wiring is
//
//	func(r *http.Request, body []byte, start time.Time) proxy.Observer { return ms.NewObserver(r, body, start) }
//
// body is the request body when the proxy buffered it (nil when streamed);
// only its "model" and "stream" fields are read. It never returns nil.
func (ms *Meters) NewObserver(r *http.Request, body []byte, start time.Time) *Meter {
	m := &Meter{ms: ms, start: start, mode: modeJSON, limit: ms.maxBody}
	if r != nil {
		m.kind = kindOf(r.URL.Path)
		m.reqHeader = r.Header // read in Done: the proxy never changes it
	}
	m.reqBody = body
	return m
}

// kind is what endpoint a request went to, which decides what its response
// can tell about usage.
type kind int

const (
	kindOther        kind = iota
	kindMessages          // POST /v1/messages
	kindCountTokens       // POST /v1/messages/count_tokens
	kindChat              // POST /v1/chat/completions (OpenAI format)
	kindBatch             // /v1/messages/batches… except results
	kindBatchResults      // GET /v1/messages/batches/{id}/results (JSONL)
)

func kindOf(path string) kind {
	path = strings.TrimSuffix(path, "/")
	switch {
	case strings.HasSuffix(path, "/v1/messages"):
		return kindMessages
	case strings.HasSuffix(path, "/v1/messages/count_tokens"):
		return kindCountTokens
	case strings.HasSuffix(path, "/v1/chat/completions"):
		return kindChat
	case strings.Contains(path, "/v1/messages/batches"):
		if strings.HasSuffix(path, "/results") {
			return kindBatchResults
		}
		return kindBatch
	}
	return kindOther
}

// mode is how the meter reads the (decoded) body.
type mode int

const (
	modeJSON   mode = iota // buffer up to the cap, parse at Done
	modeSSE                // frames, held and read at Done (see hold)
	modeJSONL              // one JSON value per line, held likewise
	modeIgnore             // nothing to learn from this body
	// modeSummary is a plain event stream the proxy scans: its usage
	// frames come from that scan at the end (see UseSummary).
	modeSummary
)

// Meter reads one response as it is forwarded and fills the usage fields of
// its record at Done. Write never blocks, never fails and never keeps p (it
// copies it); the work it does per write is bounded by the size of the
// write.
//
// Methods are safe to call from different goroutines, one at a time or not.
type Meter struct {
	ms        *Meters
	start     time.Time
	kind      kind
	reqHeader http.Header
	reqModel  string
	reqBody   []byte

	respHeader http.Header // for the rate-limit headroom, read in Done
	respAt     time.Time

	mu      sync.Mutex
	status  int
	mode    mode
	limit   int    // buffer cap for this body
	coding  string // "" (identity), "gzip", "deflate", or an unsupported one
	broken  bool   // a recovered panic: stop metering, record what is known
	done    bool
	lastAt  time.Time
	scanner sse.Scanner
	frameAt time.Time       // arrival time of the bytes being fed
	onFrame func(sse.Frame) // m.frameNow, made once: no closure per write

	body []byte // modeJSON body, or the compressed body when coding != ""
	over bool   // body passed the cap
	// marks map compressed offsets to arrival times, so that a body decoded
	// at Done still dates its first token by when its bytes arrived.
	marks []mark
	line  []byte     // modeJSONL: the incomplete last line
	held  *heldBytes // identity stream bytes not read yet (see hold)

	unknownWhy string // the body could not be decoded at all
	truncated  bool   // the decoded body ended early

	usage      apiUsage
	haveUsage  bool
	model      string
	errType    string
	errFrame   bool // errType came from an error frame in a 2xx stream
	firstToken time.Time
	counted    *int64 // count_tokens answer

	batch batchSum // modeJSONL: the results of a batch

	pending []pendingFrame // message_start and message_delta, read in Done
}

type mark struct {
	end int // compressed offset just past the write
	at  time.Time
}

// Response reads the status and headers: how to read the body, and the
// rate-limit headroom the upstream reported.
func (m *Meter) Response(status int, h http.Header) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.recover("response")
	// The rate-limit headers are read in Done, off the response's path;
	// the header map is the upstream's and no longer changes.
	m.respHeader, m.respAt = h, m.ms.now()
	m.status = status
	switch {
	case status < 200 || status > 299:
		m.mode, m.limit = modeJSON, min(m.ms.maxBody, maxErrorBody)
	case sse.IsEventStream(h.Get("Content-Type")):
		m.mode = modeSSE
	case m.kind == kindBatchResults:
		m.mode = modeJSONL
	case m.kind == kindMessages || m.kind == kindCountTokens || m.kind == kindChat:
		m.mode = modeJSON
	default:
		m.mode = modeIgnore
	}
	switch ce := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); ce {
	case "", "identity":
	case "x-gzip":
		m.coding = "gzip"
	default:
		m.coding = ce
	}
}

// Write observes the next bytes sent to the client. It always reports the
// whole of p written and a nil error.
func (m *Meter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broken || m.done || m.mode == modeIgnore || len(p) == 0 {
		return len(p), nil
	}
	defer m.recover("write")
	at := m.ms.now()
	m.lastAt = at
	if m.mode == modeSummary {
		return len(p), nil
	}
	if m.coding != "" {
		// Encoded bodies are decoded at Done: a decompressor needs a reader
		// it can block on, and Write must not block or start goroutines.
		if !m.keep(p) {
			return len(p), nil
		}
		m.marks = append(m.marks, mark{end: len(m.body), at: at})
		return len(p), nil
	}
	if m.mode == modeJSON {
		m.keep(p)
		return len(p), nil
	}
	m.hold(p, at)
	return len(p), nil
}

// Done fills rec's usage fields: Model (when the response named one),
// Tokens, ServiceTier, Batch, UsageExtras, FirstToken, TokensPerSec,
// CostUSD, PriceKnown, PriceRow, Client (the family, from the request
// headers), and ErrorType (plus ErrorClass for an error frame in a 2xx
// stream) when the proxy left them empty.
func (m *Meter) Done(rec *storage.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done || rec == nil {
		return
	}
	m.done = true
	if m.ms.limits != nil && m.respHeader != nil {
		m.ms.limits.Observe(m.respHeader, m.respAt)
	}
	if !m.broken {
		m.finish()
	}
	defer m.recover("fill")
	m.applyPending()
	m.fill(rec)
}

// finish decodes a compressed body and parses what was buffered.
func (m *Meter) finish() {
	defer m.recover("done")
	m.release()
	m.returnHeld()
	if m.coding != "" && m.mode != modeIgnore && len(m.body) > 0 {
		m.decode()
	}
	switch m.mode {
	case modeSSE:
		m.scanner.Flush(func(f sse.Frame) { m.frame(f, m.lastAt) })
	case modeJSONL:
		if len(m.line) > 0 && !m.over {
			m.batchLine(m.line)
		}
	case modeJSON:
		if !m.over && len(m.body) > 0 {
			m.parseBody(m.body)
		}
	}
}

// recover turns a bug in the meter into a metering failure rather than a
// failed response: the proxy's bytes matter more than the statistics.
func (m *Meter) recover(where string) {
	if v := recover(); v != nil {
		m.broken = true
		m.body, m.marks, m.line, m.held = nil, nil, nil, nil
		m.ms.log.Error("usage meter failed; this request's usage is incomplete", "where", where, "panic", v)
	}
}

package usage

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
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
	// RateLimits receives the anthropic-ratelimit-* headers of every
	// response. nil means none are kept.
	RateLimits *RateLimitTracker
	// MaxBody caps what one Meter buffers; 0 means DefaultMaxBody.
	MaxBody int
	// Now is the clock for first-token times. nil means time.Now.
	Now func() time.Time
	// Logger receives the rare internal failure (a recovered panic). nil
	// discards.
	Logger *slog.Logger
	// Settings keeps the ids of the batches whose results were counted, so
	// that downloading them again after a restart counts nothing. nil keeps
	// them for this run only.
	Settings Settings
}

// Meters makes a Meter for each request. It is safe for concurrent use.
type Meters struct {
	prices  *Prices
	limits  *RateLimitTracker
	maxBody int
	now     func() time.Time
	log     *slog.Logger

	settings Settings

	batchMu sync.Mutex
	batches map[string]time.Time // batch id → when its results were counted; nil until read
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
	return &Meters{prices: o.Prices, limits: o.RateLimits, maxBody: o.MaxBody, now: o.Now, log: o.Logger, settings: o.Settings}
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

// maxHeld bounds the stream bytes a Meter holds before reading them.
const maxHeld = 64 << 10

// hold keeps stream bytes, each write marked with its arrival time, to be
// read at Done: a stream's next bytes never wait for the meter's parse
// (measured: that parse was most of what recording added to a request).
// A longer stream is read in pieces of maxHeld, so memory stays bounded.
func (m *Meter) hold(p []byte, at time.Time) {
	if m.held == nil {
		m.held = heldPool.Get().(*heldBytes)
	}
	h := m.held
	if len(h.b)+len(p) > maxHeld {
		m.release()
		if len(p) > maxHeld {
			m.feed(p, at)
			return
		}
	}
	h.b = append(h.b, p...)
	h.marks = append(h.marks, mark{end: len(h.b), at: at})
}

// heldBytes is what hold keeps: the bytes and each write's end and time.
type heldBytes struct {
	b     []byte
	marks []mark
}

// heldPool saves a request the allocations (and zeroing) of what it holds.
// Only small buffers go back, so that a thousand open streams never sit on
// a thousand buffers grown by long ones.
var heldPool = sync.Pool{New: func() any {
	return &heldBytes{b: make([]byte, 0, 4<<10), marks: make([]mark, 0, 32)}
}}

const maxPooledHeld = 16 << 10

// returnHeld gives the held buffers back once Done has read them.
func (m *Meter) returnHeld() {
	if h := m.held; h != nil && cap(h.b) <= maxPooledHeld && cap(h.marks) <= 1024 {
		h.b, h.marks = h.b[:0], h.marks[:0]
		heldPool.Put(h)
	}
	m.held = nil
}

// release reads the held bytes, each write's piece dated by its arrival.
// The buffer is reused: the scanner copies whatever it keeps of p.
func (m *Meter) release() {
	h := m.held
	if h == nil {
		return
	}
	from := 0
	for _, mk := range h.marks {
		m.feed(h.b[from:mk.end], mk.at)
		from = mk.end
	}
	h.b, h.marks = h.b[:0], h.marks[:0]
}

// keep appends p to the body buffer, or marks the body over the cap.
func (m *Meter) keep(p []byte) bool {
	if m.over {
		return false
	}
	if len(m.body)+len(p) > m.limit {
		m.over = true
		if m.mode == modeJSON {
			m.body = nil // unparseable anyway; free it now
		}
		return false
	}
	m.body = append(m.body, p...)
	return true
}

// feed reads decoded body bytes that arrived at at.
func (m *Meter) feed(p []byte, at time.Time) {
	switch m.mode {
	case modeSSE:
		if m.onFrame == nil {
			m.onFrame = m.frameNow
		}
		m.frameAt = at
		m.scanner.Feed(p, m.onFrame)
	case modeJSONL:
		m.lines(p)
	case modeJSON:
		m.keep(p)
	}
}

func (m *Meter) frameNow(f sse.Frame) { m.frame(f, m.frameAt) }

// frame reads one SSE frame. Content deltas, the bulk of a stream, are not
// parsed at all: only their arrival time matters.
func (m *Meter) frame(f sse.Frame, at time.Time) {
	if m.kind == kindChat {
		m.chatChunk(f.Data, at)
		return
	}
	ev := f.Event
	if ev == "" && len(f.Data) > 0 {
		// A stream without event: lines still carries the type in its data.
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(f.Data, &t) != nil {
			return
		}
		ev = t.Type
	}
	switch ev {
	case "content_block_delta":
		if m.firstToken.IsZero() {
			m.firstToken = at
		}
	case "message_start", "message_delta":
		// Decoded in Done: a stream's next bytes wait for this call. A
		// stream with very many of them is read as it goes, so memory stays
		// bounded.
		if len(m.pending) >= maxPendingFrames {
			m.applyPending()
		}
		m.pending = append(m.pending, pendingFrame{start: ev == "message_start", data: bytes.Clone(f.Data)})
	case "error":
		var v errorBody
		if json.Unmarshal(f.Data, &v) == nil && v.errType() != "" {
			m.errType, m.errFrame = v.errType(), true
		}
	}
}

// maxPendingFrames bounds the frames a Meter keeps for Done.
const maxPendingFrames = 64

// pendingFrame is a message_start or message_delta kept for Done.
type pendingFrame struct {
	start bool
	data  []byte
}

// applyPending reads the usage of the message_start and message_delta
// frames in the order they came: message_start's usage, overlaid by every
// non-null field of each message_delta's (their counts are cumulative).
// A frame json.Unmarshal would refuse is skipped whole.
func (m *Meter) applyPending() {
	for _, p := range m.pending {
		if p.start {
			var f startFrame
			if f.decode(p.data) != nil {
				continue
			}
			if f.model != "" {
				m.model = f.model
			}
			if f.usage != nil {
				m.usage, m.haveUsage = *f.usage, true
			}
			continue
		}
		u, err := deltaUsage(p.data)
		if err != nil || u == nil {
			continue
		}
		m.usage.overlay(u)
		m.haveUsage = true
	}
	m.pending = nil
}

// startFrame is what Done reads of a message_start frame.
type startFrame struct {
	model string
	usage *apiUsage
}

// decode reads message.model and message.usage as json.Unmarshal would
// into a struct of those two (see apiUsage.decode).
func (f *startFrame) decode(b []byte) error {
	return decodeMembers(b, []string{"message"}, func(_ string, msg []byte) error {
		if isNull(msg) {
			return nil
		}
		return decodeMembers(msg, []string{"model", "usage"}, func(name string, val []byte) error {
			if name == "usage" {
				return decodeObject(&f.usage, val)
			}
			if isNull(val) {
				return nil // json.Unmarshal leaves a string alone for null
			}
			s, err := jsonString(val)
			if err != nil {
				return err
			}
			f.model = s
			return nil
		})
	})
}

// deltaUsage reads the usage of a message_delta frame as json.Unmarshal
// would into a struct of that one field: nil when absent or null.
func deltaUsage(b []byte) (*apiUsage, error) {
	var u *apiUsage
	err := decodeMembers(b, []string{"usage"}, func(_ string, val []byte) error {
		return decodeObject(&u, val)
	})
	return u, err
}

// chatChunk reads one data frame of an OpenAI-format stream.
func (m *Meter) chatChunk(data []byte, at time.Time) {
	if len(data) == 0 || bytes.Equal(data, []byte("[DONE]")) {
		return
	}
	// Once the first token is dated only usage, model and errors matter,
	// and most chunks carry none of them with a value.
	if !m.firstToken.IsZero() && m.model != "" &&
		!bytes.Contains(data, []byte(`"usage":{`)) && !bytes.Contains(data, []byte(`"usage": {`)) &&
		!bytes.Contains(data, []byte(`"error"`)) {
		return
	}
	var v struct {
		Model   string       `json:"model"`
		Usage   *openAIUsage `json:"usage"`
		Choices []struct {
			Delta struct {
				Content          string          `json:"content"`
				ReasoningContent string          `json:"reasoning_content"`
				ToolCalls        json.RawMessage `json:"tool_calls"`
			} `json:"delta"`
		} `json:"choices"`
		errorBody
	}
	if json.Unmarshal(data, &v) != nil {
		return
	}
	if v.Model != "" {
		m.model = v.Model
	}
	if m.firstToken.IsZero() {
		for _, c := range v.Choices {
			if c.Delta.Content != "" || c.Delta.ReasoningContent != "" || len(c.Delta.ToolCalls) > 0 {
				m.firstToken = at
				break
			}
		}
	}
	if v.Usage != nil {
		m.usage = *v.Usage.anthropic()
		m.haveUsage = true
	}
	if t := v.errType(); t != "" {
		m.errType, m.errFrame = t, true
	}
}

// lines reads JSONL (batch results), one line at a time.
func (m *Meter) lines(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(m.line)+len(p) > m.limit {
				m.over = true // a line this long is skipped, not parsed
				m.line = m.line[:0]
				return
			}
			m.line = append(m.line, p...)
			return
		}
		if m.over {
			m.over = false // the oversized line ends here
		} else if len(m.line) > 0 {
			m.line = append(m.line, p[:i]...)
			m.batchLine(m.line)
			m.line = m.line[:0]
		} else {
			m.batchLine(p[:i])
		}
		p = p[i+1:]
	}
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

// decode inflates the buffered compressed body and feeds it as if it had
// arrived decoded, each piece dated by the write that completed it.
func (m *Meter) decode() {
	compressed, marks, wasOver := m.body, m.marks, m.over
	m.body, m.marks, m.over = nil, nil, false
	src := &markedReader{b: compressed}
	r, err := newDecoder(m.coding, src)
	if err != nil {
		m.unknownWhy = err.Error()
		return
	}
	// A decompression bomb stops at a bounded size like any other body.
	lr := io.LimitReader(r, int64(m.limit)*4)
	buf := make([]byte, 4<<10)
	mi := 0
	for {
		n, err := lr.Read(buf)
		if n > 0 {
			for mi < len(marks)-1 && marks[mi].end < src.off {
				mi++
			}
			at := m.lastAt
			if len(marks) > 0 {
				at = marks[mi].at
			}
			m.feed(buf[:n], at)
		}
		if err != nil {
			if err != io.EOF || wasOver {
				m.truncated = true
			}
			break
		}
	}
	m.over = m.over || wasOver
}

// parseBody reads a complete non-streaming body.
func (m *Meter) parseBody(b []byte) {
	if m.parseMessage(b) {
		return
	}
	var v messageBody
	if json.Unmarshal(b, &v) != nil {
		return
	}
	if t := v.errType(); t != "" {
		m.errType = t
		return
	}
	if v.Model != "" {
		m.model = v.Model
	}
	if m.kind == kindCountTokens && v.InputTokens != nil {
		n := *v.InputTokens
		m.counted = &n
		return
	}
	if len(v.Usage) == 0 || bytes.Equal(v.Usage, []byte("null")) {
		return
	}
	if m.kind == kindChat {
		var o openAIUsage
		if json.Unmarshal(v.Usage, &o) == nil {
			m.usage = *o.anthropic()
			m.haveUsage = true
		}
		return
	}
	var u apiUsage
	if u.decode(v.Usage) == nil {
		m.usage = u
		m.haveUsage = true
	}
}

// parseMessage reads a successful message's model and usage with a scan of
// its top-level members, decoding only the small usage object: a full
// json.Unmarshal of the message (its content included) was most of what
// recording cost a request. It reports false when the body is anything
// else, for parseBody's full decode.
func (m *Meter) parseMessage(b []byte) bool {
	if m.kind != kindMessages || m.status < 200 || m.status > 299 {
		return false
	}
	var model string
	var raw []byte
	jsonscan.TopLevel(b, func(key, val []byte) bool {
		switch string(key) {
		case "model":
			model = jsonscan.String(val)
		case "usage":
			raw = val
		case "error":
			raw = nil
			return false
		}
		return true
	})
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var u apiUsage
	if u.decode(raw) != nil {
		return false
	}
	if model != "" {
		m.model = model
	}
	m.usage, m.haveUsage = u, true
	return true
}

// fill writes what the meter learnt into rec.
func (m *Meter) fill(rec *storage.Record) {
	if m.reqHeader != nil {
		rec.Client = ClientFamilyFromHeader(m.reqHeader)
	} else if rec.Client != "" {
		rec.Client = ClientFamily(rec.Client)
	}
	switch {
	case m.model != "":
		rec.Model = m.model
	case rec.Model == "":
		if len(m.reqBody) > 0 && bytes.Contains(m.reqBody, []byte(`"model"`)) {
			var req struct {
				Model string `json:"model"`
			}
			if json.Unmarshal(m.reqBody, &req) == nil {
				m.reqModel = req.Model
			}
		}
		rec.Model = m.reqModel
	}
	// The request's and the response's model are outside input: bounded
	// before anything stores or counts them (issue 14).
	rec.Model = storage.NormalizeModel(rec.Model)
	if rec.ErrorType == "" && m.errType != "" {
		rec.ErrorType = m.errType
		if m.errFrame && rec.ErrorClass == storage.ClassNone {
			rec.ErrorClass = storage.ClassUpstream5xx
		}
	}
	if m.kind == kindBatch || m.kind == kindBatchResults {
		rec.Batch = true
	}
	at := rec.Time
	if at.IsZero() {
		at = m.start
	}
	if !m.firstToken.IsZero() {
		rec.FirstToken = m.firstToken.Sub(at)
	}

	switch {
	case m.kind == kindCountTokens:
		// Counting tokens is free: the count is kept for the curious but
		// never enters Tokens, which sum to spend.
		rec.Tokens = storage.Tokens{}
		if m.counted != nil {
			rec.UsageExtras = putExtra(rec.UsageExtras, ExtraCountedTokens, strconv.FormatInt(*m.counted, 10))
		}
		rec.CostUSD, rec.PriceKnown, rec.PriceRow = 0, true, "count_tokens (free)"
		return
	case m.kind == kindBatchResults:
		m.fillBatch(rec)
		return
	}

	if m.haveUsage {
		rec.Tokens = m.usage.tokens()
		if m.usage.ServiceTier != nil && *m.usage.ServiceTier != "" {
			rec.ServiceTier = *m.usage.ServiceTier
		}
		rec.UsageExtras = m.usage.extras(rec.UsageExtras)
		if rec.ServiceTier == "batch" {
			rec.Batch = true
		}
		if !m.firstToken.IsZero() && rec.Tokens.Output > 0 && m.lastAt.After(m.firstToken) {
			rec.TokensPerSec = float64(rec.Tokens.Output) / m.lastAt.Sub(m.firstToken).Seconds()
		}
		extras := priceExtras(rec)
		rec.CostUSD, rec.PriceRow, rec.PriceKnown = m.ms.prices.Cost(rec.Model, rec.Tokens, at, rec.Batch, extras)
		return
	}

	rec.CostUSD, rec.PriceRow = 0, ""
	if why := m.missingUsage(); why != "" {
		rec.PriceKnown = false
		rec.UsageExtras = putExtra(rec.UsageExtras, ExtraUsageUnknown, why)
		return
	}
	// No usage because nothing was billed: an error, a request that never
	// reached the model, an endpoint without usage.
	rec.PriceKnown = true
}

// missingUsage says why a successful response that should have carried
// usage did not yield it, or "" when none was to be expected.
func (m *Meter) missingUsage() string {
	if m.status < 200 || m.status > 299 || m.errType != "" {
		return ""
	}
	if m.kind != kindMessages && m.kind != kindChat {
		return ""
	}
	switch {
	case m.broken:
		return "meter failed"
	case m.unknownWhy != "":
		return m.unknownWhy
	case m.over && m.mode == modeJSON:
		return "body over " + strconv.Itoa(m.limit>>20) + " MiB"
	case m.truncated:
		return "body did not decode"
	}
	return ""
}

func priceExtras(rec *storage.Record) map[string]string {
	if rec.ServiceTier == "" {
		return rec.UsageExtras
	}
	e := make(map[string]string, len(rec.UsageExtras)+1)
	for k, v := range rec.UsageExtras {
		e[k] = v
	}
	e["service_tier"] = rec.ServiceTier
	return e
}

func putExtra(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = make(map[string]string)
	}
	m[k] = v
	return m
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

// maxBatchIDs bounds the ledger of counted batch results.
const maxBatchIDs = 4096

// batchResultsKept is how long a counted batch stays in the ledger: longer
// than the API keeps a batch's results available for download (29 days).
const batchResultsKept = 35 * 24 * time.Hour

// BatchesSettingsKey is the settings key of the counted-batches ledger.
const BatchesSettingsKey = "batch_results_counted"

// firstResults reports whether the results of batch id are being counted
// for the first time, in this run or an earlier one, and records that they
// now are. The ledger is read once and written at each new batch: a rare
// event, off the response's path.
func (ms *Meters) firstResults(id string, at time.Time) bool {
	ms.batchMu.Lock()
	defer ms.batchMu.Unlock()
	if ms.batches == nil {
		if ms.settings != nil {
			if _, err := ms.settings.GetSetting(BatchesSettingsKey, &ms.batches); err != nil {
				ms.log.Warn("counted batches unreadable; results downloaded again may count twice", "err", err)
			}
		}
		if ms.batches == nil {
			ms.batches = make(map[string]time.Time)
		}
	}
	if _, ok := ms.batches[id]; ok {
		return false
	}
	for k, t := range ms.batches {
		if at.Sub(t) > batchResultsKept {
			delete(ms.batches, k)
		}
	}
	if len(ms.batches) >= maxBatchIDs {
		oldest := ""
		for k, t := range ms.batches {
			if oldest == "" || t.Before(ms.batches[oldest]) {
				oldest = k
			}
		}
		delete(ms.batches, oldest)
	}
	ms.batches[id] = at
	if ms.settings != nil {
		if err := ms.settings.PutSetting(BatchesSettingsKey, ms.batches); err != nil {
			ms.log.Warn("counted batches not saved; after a restart these results may count twice", "batch", id, "err", err)
		}
	}
	return true
}

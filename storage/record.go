package storage

import "time"

// ErrorClass says whose fault a failed request was, so the dashboard can
// stack errors by cause rather than by status code alone.
type ErrorClass string

const (
	ClassNone        ErrorClass = ""             // success
	ClassClient4xx   ErrorClass = "client_4xx"   // refused by Ferry's guards because of the client's request (auth, size, host, origin)
	ClassUpstream4xx ErrorClass = "upstream_4xx" // Anthropic answered 4xx
	ClassUpstream5xx ErrorClass = "upstream_5xx" // Anthropic answered 5xx/529, or an error frame mid-stream
	ClassNetwork     ErrorClass = "network"      // the road failed: proxy refused, DNS, TLS, timeouts, stream cut
	ClassFerry       ErrorClass = "ferry"        // Ferry itself: paused, internal error
)

// Tokens are the token counts of one request, by price class. Input counts
// uncached input only: the whole prompt is Input+CacheWrite5m+CacheWrite1h+CacheRead.
type Tokens struct {
	Input        int64 `json:"input"`
	Output       int64 `json:"output"`
	CacheWrite5m int64 `json:"cache_write_5m"`
	CacheWrite1h int64 `json:"cache_write_1h"`
	CacheRead    int64 `json:"cache_read"`
}

// Add returns the sum of two token counts.
func (t Tokens) Add(o Tokens) Tokens {
	return Tokens{
		Input:        t.Input + o.Input,
		Output:       t.Output + o.Output,
		CacheWrite5m: t.CacheWrite5m + o.CacheWrite5m,
		CacheWrite1h: t.CacheWrite1h + o.CacheWrite1h,
		CacheRead:    t.CacheRead + o.CacheRead,
	}
}

// Prompt is the whole prompt length: uncached input plus cache writes and reads.
func (t Tokens) Prompt() int64 { return t.Input + t.CacheWrite5m + t.CacheWrite1h + t.CacheRead }

// Record is one request Ferry handled, whatever its outcome. It never holds
// an API key: KeyFingerprint is a short one-way hash.
//
// Every field has one owner, the package that sets it; nothing else writes
// it (storage only stores and sums). Owners: proxy = the forwarding core
// (package proxy), usage = the meter (proxy/usage), app = the assembly
// (proxy/app), cache, filter and spend = the packages of those issues.
//
//	field                 owner    note
//	ID                    storage  the usage bucket's sequence
//	Time                  proxy    when the request arrived
//	Method, Path          proxy
//	Model                 usage    from the response, else the request; normalised by its owner
//	Stream                proxy    the request asked for a stream
//	Status                proxy    what the client was answered (499: it left)
//	ErrorType, ErrorClass proxy    the meter fills them only when the proxy left them empty (an error frame in a 200 stream)
//	Route                 proxy    the route that answered
//	Client                usage    the User-Agent family
//	RequestID             proxy    the upstream's request-id, else Ferry's
//	KeyFingerprint        proxy
//	CacheHit              cache    answered from the cache
//	Tokens, ServiceTier   usage
//	Batch, UsageExtras    usage
//	FirstByte, Total      proxy
//	FirstToken            usage    read from the stream's frames
//	TokensPerSec          usage
//	BytesIn, BytesOut     proxy
//	CostUSD, PriceKnown   usage
//	PriceRow              usage
//	RequestBody           app      only with --store-bodies, capped
//	ResponseBody          app      only with --store-bodies, capped
//	Attempts              proxy    one per try (retry and failover), at most MaxAttempts
//	Session               proxy    X-Claude-Code-Session-Id, at most MaxSessionLen bytes
//	Coalesced, SavedUSD   cache    a coalesced answer; the cost a hit or coalescing saved
//	SavedTokens           cache    the tokens (prompt and output) a hit or coalescing saved
//	FilterHits            filter   which entries matched, never the matched text; at most MaxFilterHits
//	QueueWait             spend    time spent in the concurrency queue
//	APIEquivUSD           spend    what the request would cost with an API key (subscriptions)
//
// The fields from Attempts on are optional and stored as tagged fields
// (codec.go): a new optional field needs a new tag, not a migration, and an
// older Ferry reading a newer record skips tags it does not know. The
// codec enforces the Max* bounds as a backstop; the owner bounds first.
type Record struct {
	ID             uint64     `json:"id"` // assigned by storage, increasing
	Time           time.Time  `json:"time"`
	Method         string     `json:"method"`
	Path           string     `json:"path"`
	Model          string     `json:"model,omitempty"`
	Stream         bool       `json:"stream"`
	Status         int        `json:"status"`
	ErrorType      string     `json:"error_type,omitempty"`
	ErrorClass     ErrorClass `json:"error_class,omitempty"`
	Route          string     `json:"route"`
	Client         string     `json:"client,omitempty"` // User-Agent family, e.g. claude-cli
	RequestID      string     `json:"request_id,omitempty"`
	KeyFingerprint string     `json:"key_fingerprint,omitempty"`
	CacheHit       bool       `json:"cache_hit,omitempty"`

	Tokens      Tokens `json:"tokens"`
	ServiceTier string `json:"service_tier,omitempty"`
	Batch       bool   `json:"batch,omitempty"`
	// Other usage fields that may change the price (geography, speed), as sent.
	UsageExtras map[string]string `json:"usage_extras,omitempty"`

	FirstByte    time.Duration `json:"first_byte_ns"`  // to the upstream's response headers
	FirstToken   time.Duration `json:"first_token_ns"` // to the first content delta (0 if none)
	Total        time.Duration `json:"total_ns"`
	TokensPerSec float64       `json:"tokens_per_sec,omitempty"`
	BytesIn      int64         `json:"bytes_in"`
	BytesOut     int64         `json:"bytes_out"`

	CostUSD    float64 `json:"cost_usd"`
	PriceKnown bool    `json:"price_known"`
	PriceRow   string  `json:"price_row,omitempty"` // the price row used, e.g. "claude-sonnet-4-5@2025-09-29"

	// Bodies are kept only when the user turned on storing prompt bodies.
	RequestBody  []byte `json:"request_body,omitempty"`
	ResponseBody []byte `json:"response_body,omitempty"`

	// Optional, tagged fields (see the table above).

	// Attempts are the tries on the road, in order; the last one is the
	// one that answered (or failed for good). Empty when the request was
	// answered without going upstream.
	Attempts []Attempt `json:"attempts,omitempty"`
	// Session is Claude Code's session id (X-Claude-Code-Session-Id).
	Session string `json:"session,omitempty"`
	// Coalesced marks an answer shared with an identical request in flight.
	Coalesced bool `json:"coalesced,omitempty"`
	// SavedUSD is what a cache hit or a coalesced answer saved.
	SavedUSD float64 `json:"saved_usd,omitempty"`
	// SavedTokens are the tokens (whole prompt and output) it saved.
	SavedTokens int64 `json:"saved_tokens,omitempty"`
	// FilterHits are the filter-list entries that matched.
	FilterHits []FilterHit `json:"filter_hits,omitempty"`
	// QueueWait is the time spent waiting for a concurrency slot.
	QueueWait time.Duration `json:"queue_wait_ns,omitempty"`
	// APIEquivUSD is what the request would have cost billed per token
	// with an API key, for users on a subscription.
	APIEquivUSD float64 `json:"api_equiv_usd,omitempty"`
}

// Bounds of the optional fields, enforced by the codec as a backstop.
const (
	MaxAttempts   = 8
	MaxSessionLen = 128
	MaxFilterHits = 32
)

// Attempt is one try of a request on one route.
type Attempt struct {
	Route string `json:"route"`
	// Class is "" when response headers came back, else the road failure
	// (connect, proxy_handshake, tls, reset, first_byte) or "status" for
	// a retryable upstream status.
	Class    string        `json:"class,omitempty"`
	Status   int           `json:"status,omitempty"` // the upstream's status, 0 if none came
	Duration time.Duration `json:"duration_ns"`
}

// FilterHit is one filter-list entry that matched a request or response.
// It names the entry, never the text it matched.
type FilterHit struct {
	List   string `json:"list"`
	Entry  string `json:"entry"`
	Action string `json:"action"` // what the filter did: redact, block, ...
	Count  int    `json:"count"`  // matches of this entry in the exchange
}

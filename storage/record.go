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
}

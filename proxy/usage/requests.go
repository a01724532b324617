package usage

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
	"github.com/ferry-gateway/ferry/storage"
)

// RequestJSON is one record as /_ferry/requests serves it.
type RequestJSON struct {
	ID           uint64            `json:"id"`
	Time         time.Time         `json:"time"`
	Method       string            `json:"method"`
	Path         string            `json:"path"`
	Model        string            `json:"model"`
	Stream       bool              `json:"stream"`
	Status       int               `json:"status"`
	ErrorType    string            `json:"error_type"`
	ErrorClass   string            `json:"error_class"`
	Route        string            `json:"route"`
	Client       string            `json:"client"`
	RequestID    string            `json:"request_id"`
	CacheHit     bool              `json:"cache_hit"`
	Tokens       storage.Tokens    `json:"tokens"`
	LatencyMS    LatencyMS         `json:"latency_ms"`
	TokensPerSec float64           `json:"tokens_per_sec"`
	CostUSD      float64           `json:"cost_usd"`
	PriceKnown   bool              `json:"price_known"`
	PriceRow     string            `json:"price_row"`
	ServiceTier  string            `json:"service_tier,omitempty"`
	Batch        bool              `json:"batch,omitempty"`
	UsageExtras  map[string]string `json:"usage_extras,omitempty"`
	BytesIn      int64             `json:"bytes_in"`
	BytesOut     int64             `json:"bytes_out"`
	// Attempts are the tries on the road (retries and failovers), the
	// last one the answer's.
	Attempts []AttemptJSON `json:"attempts,omitempty"`
	// The dedup cache's and the filter lists' part in the request.
	Coalesced   bool                `json:"coalesced,omitempty"`
	SavedUSD    float64             `json:"saved_usd,omitempty"`
	SavedTokens int64               `json:"saved_tokens,omitempty"`
	FilterHits  []storage.FilterHit `json:"filter_hits,omitempty"`
	// QueueWaitMS is the wait for a concurrency slot (limit.concurrency).
	QueueWaitMS float64 `json:"queue_wait_ms,omitempty"`
}

// AttemptJSON is one try of a request on one route: class is "" when an
// answer came, else the road failure (connect, proxy_handshake, tls,
// reset, first_byte) or "status" for a retried 5xx/529/429.
type AttemptJSON struct {
	Route      string  `json:"route"`
	Class      string  `json:"class,omitempty"`
	Status     int     `json:"status,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// LatencyMS are one request's latencies in milliseconds (first_token is 0
// when no content arrived).
type LatencyMS struct {
	FirstByte  float64 `json:"first_byte"`
	FirstToken float64 `json:"first_token"`
	Total      float64 `json:"total"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// NewRequestJSON converts a record for /_ferry/requests. Bodies are never
// served here.
func NewRequestJSON(r storage.Record) RequestJSON {
	return RequestJSON{
		ID: r.ID, Time: r.Time, Method: r.Method, Path: r.Path, Model: r.Model, Stream: r.Stream,
		Status: r.Status, ErrorType: r.ErrorType, ErrorClass: string(r.ErrorClass), Route: r.Route,
		Client: r.Client, RequestID: r.RequestID, CacheHit: r.CacheHit, Tokens: r.Tokens,
		LatencyMS:    LatencyMS{FirstByte: ms(r.FirstByte), FirstToken: ms(r.FirstToken), Total: ms(r.Total)},
		TokensPerSec: r.TokensPerSec, CostUSD: r.CostUSD, PriceKnown: r.PriceKnown, PriceRow: r.PriceRow,
		ServiceTier: r.ServiceTier, Batch: r.Batch, UsageExtras: r.UsageExtras,
		BytesIn: r.BytesIn, BytesOut: r.BytesOut, Attempts: attemptsJSON(r.Attempts),
		Coalesced: r.Coalesced, SavedUSD: r.SavedUSD, SavedTokens: r.SavedTokens, FilterHits: r.FilterHits,
		QueueWaitMS: ms(r.QueueWait),
	}
}

func attemptsJSON(as []storage.Attempt) []AttemptJSON {
	var out []AttemptJSON
	for _, a := range as {
		out = append(out, AttemptJSON{Route: a.Route, Class: a.Class, Status: a.Status, DurationMS: ms(a.Duration)})
	}
	return out
}

// RequestsPage is the JSON of /_ferry/requests. NextBefore is the before=
// of the next (older) page, 0 when this one is the last.
type RequestsPage struct {
	Records    []RequestJSON `json:"records"`
	NextBefore uint64        `json:"next_before"`
}

// MaxRequestsLimit bounds limit= of /_ferry/requests.
const MaxRequestsLimit = 1000

// RequestsHandler serves GET /_ferry/requests?limit=&before= : records
// newest first (limit default 50, at most 1000), with ids below before.
func (h *Handlers) RequestsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 50
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				h.fail(w, r, fmt.Errorf("%w: limit %q: want a positive number", errBadQuery, s))
				return
			}
			limit = min(n, MaxRequestsLimit)
		}
		var before uint64
		if s := q.Get("before"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				h.fail(w, r, fmt.Errorf("%w: before %q: want a record id", errBadQuery, s))
				return
			}
			before = n
		}
		recs, err := h.db.Records(before, limit)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		page := RequestsPage{Records: make([]RequestJSON, len(recs))}
		for i, rec := range recs {
			page.Records[i] = NewRequestJSON(rec)
		}
		if len(recs) == limit && recs[len(recs)-1].ID > 1 {
			page.NextBefore = recs[len(recs)-1].ID
		}
		reply.JSON(w, page)
	})
}

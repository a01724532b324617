package usage

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
	"github.com/ferry-gateway/ferry/storage"
)

// Windows are the /_ferry/stats windows the dashboard offers; ParseSpan
// accepts any other number of minutes, hours or days too.
var Windows = []string{"5m", "15m", "1h", "24h", "7d", "30d"}

// maxSpan bounds a window: storage keeps about a year of rollups.
const maxSpan = 400 * 24 * time.Hour

// ParseSpan reads a window such as "5m", "24h", "7d" (and Go durations).
func ParseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("window %q: want a number of days such as 7d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("window %q: want 5m, 15m, 1h, 24h, 7d or 30d", s)
		}
	}
	if d <= 0 || d > maxSpan {
		return 0, fmt.Errorf("window %q: want more than 0 and at most 400d", s)
	}
	return d, nil
}

// Stats is the JSON of /_ferry/stats.
type Stats struct {
	Window               string                       `json:"window"`
	From                 time.Time                    `json:"from"`
	To                   time.Time                    `json:"to"`
	Requests             uint64                       `json:"requests"`
	SuccessRate          float64                      `json:"success_rate"`
	Errors               storage.ErrorCounts          `json:"errors"`
	LatencyMS            storage.Latency              `json:"latency_ms"`
	Tokens               storage.Tokens               `json:"tokens"`
	CostUSD              float64                      `json:"cost_usd"`
	UnknownPriceRequests uint64                       `json:"unknown_price_requests"`
	CacheHits            uint64                       `json:"cache_hits"`
	SpendTodayUSD        float64                      `json:"spend_today_usd"`
	RequestsToday        uint64                       `json:"requests_today"`
	SpendMonthUSD        float64                      `json:"spend_month_usd"`
	ByModel              map[string]storage.Breakdown `json:"by_model"`
	ByRoute              map[string]storage.Breakdown `json:"by_route"`
	Headroom             map[string]Headroom          `json:"ratelimit"`
	QueueDropped         uint64                       `json:"queue_dropped"`
	// The dedup cache's and the filter lists' share of the window, for
	// the dashboard.
	Coalesced   uint64            `json:"coalesced"`
	SavedUSD    float64           `json:"saved_usd"`
	SavedTokens uint64            `json:"saved_tokens"`
	FilterHits  map[string]uint64 `json:"filter_hits,omitempty"`
}

// Stats computes /_ferry/stats for the window ending now.
func (h *Handlers) Stats(window string) (Stats, error) {
	span, err := ParseSpan(window)
	if err != nil {
		return Stats{}, errors.Join(errBadQuery, err)
	}
	now := h.now()
	st, err := h.StatsBetween(now.Add(-span), now)
	st.Window = window
	return st, err
}

// StatsBetween computes the figures of /_ferry/stats for [from, to), with
// today's and this month's spend (local time) up to now whatever the
// window: the dashboard asks for its own windows.
func (h *Handlers) StatsBetween(from, to time.Time) (Stats, error) {
	now := h.now()
	s, err := h.db.Summary(from, to)
	if err != nil {
		return Stats{}, err
	}
	local := now.In(h.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, h.loc)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, h.loc)
	today, err := h.db.Summary(day, now)
	if err != nil {
		return Stats{}, err
	}
	thisMonth, err := h.db.Summary(month, now)
	if err != nil {
		return Stats{}, err
	}
	return Stats{
		From: s.From, To: s.To,
		Requests: s.Requests, SuccessRate: s.SuccessRate, Errors: s.Errors, LatencyMS: s.LatencyMS,
		Tokens: s.Tokens, CostUSD: s.CostUSD, UnknownPriceRequests: s.UnknownPrice, CacheHits: s.CacheHits,
		SpendTodayUSD: today.CostUSD, RequestsToday: today.Requests, SpendMonthUSD: thisMonth.CostUSD,
		ByModel: s.ByModel, ByRoute: s.ByRoute,
		Headroom: h.limits.Snapshot(), QueueDropped: h.dropped(),
		Coalesced: s.Coalesced, SavedUSD: s.SavedUSD, SavedTokens: s.SavedTokens, FilterHits: s.FilterHits,
	}, nil
}

// StatsHandler serves GET /_ferry/stats?window=5m|15m|1h|24h|7d|30d
// (default 24h), or ?from=…&to=… (RFC 3339) for the window process's
// dashboard, which asks for its own windows.
func (h *Handlers) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var s Stats
		var err error
		if q.Has("from") || q.Has("to") {
			var from, to time.Time
			if from, to, err = parseRange(q.Get("from"), q.Get("to")); err == nil {
				s, err = h.StatsBetween(from, to)
			}
		} else {
			s, err = h.Stats(cmp.Or(q.Get("window"), "24h"))
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		reply.JSON(w, s)
	})
}

// parseRange reads from= and to= (RFC 3339): from before to, at most
// maxSpan apart.
func parseRange(fromS, toS string) (from, to time.Time, err error) {
	if from, err = time.Parse(time.RFC3339Nano, fromS); err != nil {
		return from, to, fmt.Errorf("%w: from %q: want an RFC 3339 time", errBadQuery, fromS)
	}
	if to, err = time.Parse(time.RFC3339Nano, toS); err != nil {
		return from, to, fmt.Errorf("%w: to %q: want an RFC 3339 time", errBadQuery, toS)
	}
	if !from.Before(to) || to.Sub(from) > maxSpan {
		return from, to, fmt.Errorf("%w: from %s to %s: want from before to, at most 400 days apart", errBadQuery, fromS, toS)
	}
	return from, to, nil
}

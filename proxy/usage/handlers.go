package usage

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/storage"
)

// StatsSource is the read side of storage the handlers need
// (storage.DB implements it).
type StatsSource interface {
	Summary(from, to time.Time) (storage.Summary, error)
	Records(before uint64, limit int) ([]storage.Record, error)
}

// SeriesSource is the optional time-series query (storage.DB implements
// it); with it the handlers also serve /_ferry/series for charts.
type SeriesSource interface {
	Series(from, to time.Time, step time.Duration) ([]storage.Point, error)
}

// HandlersOptions configure NewHandlers.
type HandlersOptions struct {
	DB     StatsSource // required
	Prices *Prices     // nil means the default table, read-only in effect
	// RateLimits is the tracker the Meters fill; nil shows none.
	RateLimits *RateLimitTracker
	// QueueDropped reports records the recorder dropped because its queue
	// was full (storage.Recorder.Dropped). nil means 0.
	QueueDropped func() uint64
	// Health reports the upstream routes' health for /_ferry/metrics. nil
	// means no upstream gauges.
	Health func() []UpstreamHealth
	// Refused reports the guards' refusals by reason for /_ferry/metrics
	// (proxy.(*Proxy).Refusals). nil means no such metric.
	Refused func() map[string]uint64
	// Now and Location set the clock and the time zone of "today" and
	// "this month". nil means time.Now and time.Local.
	Now      func() time.Time
	Location *time.Location
	Logger   *slog.Logger
}

// Handlers serve Ferry's usage read side under /_ferry/.
type Handlers struct {
	db      StatsSource
	prices  *Prices
	limits  *RateLimitTracker
	dropped func() uint64
	now     func() time.Time
	loc     *time.Location
	log     *slog.Logger
	metrics *Metrics
}

// NewHandlers returns the handlers. Feed Observe every finished request so
// that /_ferry/metrics counts it.
func NewHandlers(o HandlersOptions) *Handlers {
	if o.Prices == nil {
		o.Prices = DefaultPrices()
	}
	if o.QueueDropped == nil {
		o.QueueDropped = func() uint64 { return 0 }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handlers{
		db: o.DB, prices: o.Prices, limits: o.RateLimits, dropped: o.QueueDropped,
		now: o.Now, loc: o.Location, log: o.Logger,
		metrics: NewMetrics(MetricsOptions{Health: o.Health, QueueDropped: o.QueueDropped, Refused: o.Refused}),
	}
}

// Observe counts one finished request in the Prometheus metrics. Call it
// for every events.RequestFinished.
func (h *Handlers) Observe(rec *storage.Record) { h.metrics.Observe(rec) }

// Metrics returns the Prometheus metrics the handlers serve.
func (h *Handlers) Metrics() *Metrics { return h.metrics }

// Register mounts every handler; pass proxy.(*Proxy).HandleAdmin. Changing
// the prices is mutating (it needs the admin token); reading is not.
func (h *Handlers) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/stats", h.StatsHandler(), false)
	mount("GET /_ferry/requests", h.RequestsHandler(), false)
	mount("GET /_ferry/usage", h.UsageHandler(), false)
	mount("GET /_ferry/metrics", h.metrics.Handler(), false)
	if _, ok := h.db.(SeriesSource); ok {
		mount("GET /_ferry/series", h.SeriesHandler(), false)
	}
	prices := h.PricesHandler()
	mount("GET /_ferry/prices", prices, false)
	mount("PUT /_ferry/prices", prices, true)
	mount("POST /_ferry/prices", prices, true)
	mount("DELETE /_ferry/prices", prices, true)
}

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
	RateLimit            map[string]RateLimit         `json:"ratelimit"`
	QueueDropped         uint64                       `json:"queue_dropped"`
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
		RateLimit: h.limits.Snapshot(), QueueDropped: h.dropped(),
	}, nil
}

// StatsHandler serves GET /_ferry/stats?window=5m|15m|1h|24h|7d|30d
// (default 24h).
func (h *Handlers) StatsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		window := cmp.Or(r.URL.Query().Get("window"), "24h")
		s, err := h.Stats(window)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		proxy.WriteJSON(w, s)
	})
}

// SeriesJSON is the JSON of /_ferry/series.
type SeriesJSON struct {
	Window string          `json:"window"`
	StepS  int64           `json:"step_s"`
	Points []storage.Point `json:"points"`
}

// MaxSeriesPoints bounds points= of /_ferry/series.
const MaxSeriesPoints = 1440

// SeriesHandler serves GET /_ferry/series?window=24h&points=60: the
// window ending now cut into about that many steps (whole minutes, at
// least one), each with requests, errors by class, tokens, cost and
// latency percentiles, oldest first. It answers 404 when the database
// has no series query.
func (h *Handlers) SeriesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src, ok := h.db.(SeriesSource)
		if !ok {
			proxy.WriteError(w, http.StatusNotFound, "not_found_error", "this Ferry keeps no time series")
			return
		}
		q := r.URL.Query()
		window := cmp.Or(q.Get("window"), "24h")
		span, err := ParseSpan(window)
		if err != nil {
			h.fail(w, r, errors.Join(errBadQuery, err))
			return
		}
		points := 60
		if s := q.Get("points"); s != "" {
			if points, err = strconv.Atoi(s); err != nil || points <= 0 {
				h.fail(w, r, fmt.Errorf("%w: points %q: want a positive number", errBadQuery, s))
				return
			}
			points = min(points, MaxSeriesPoints)
		}
		step := max(time.Minute, (span/time.Duration(points)+time.Minute-1)/time.Minute*time.Minute)
		now := h.now()
		// Align to the step so that refreshing the chart does not shift
		// every bar.
		end := now.Truncate(step).Add(step)
		pts, err := src.Series(end.Add(-span), end, step)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		proxy.WriteJSON(w, SeriesJSON{Window: window, StepS: int64(step / time.Second), Points: pts})
	})
}

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
		BytesIn: r.BytesIn, BytesOut: r.BytesOut,
	}
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
		proxy.WriteJSON(w, page)
	})
}

// UsageRow is one line of `ferry usage`: a model, a route or a local day.
type UsageRow struct {
	Key string `json:"key"`
	storage.Breakdown
}

// UsageReport is the JSON of /_ferry/usage.
type UsageReport struct {
	Since string     `json:"since"`
	By    string     `json:"by"`
	From  time.Time  `json:"from"`
	To    time.Time  `json:"to"`
	Rows  []UsageRow `json:"rows"`
	Total UsageRow   `json:"total"`
}

// Usage groupings.
const (
	ByModel = "model"
	ByDay   = "day"
	ByRoute = "route"
)

// Usage sums the requests of the span ending at now by model, route (most
// expensive first) or local day (oldest first, every day present). It reads
// the database directly, so the CLI can use it when Ferry is not running.
func Usage(db StatsSource, since time.Duration, by string, now time.Time, loc *time.Location) (UsageReport, error) {
	if loc == nil {
		loc = time.Local
	}
	rep := UsageReport{By: by, From: now.Add(-since), To: now, Rows: []UsageRow{}}
	switch by {
	case ByModel, ByRoute:
		s, err := db.Summary(now.Add(-since), now)
		if err != nil {
			return UsageReport{}, err
		}
		rep.From, rep.To = s.From, s.To
		m := s.ByModel
		if by == ByRoute {
			m = s.ByRoute
		}
		for k, b := range m {
			rep.Rows = append(rep.Rows, UsageRow{Key: k, Breakdown: b})
		}
		slices.SortFunc(rep.Rows, func(a, b UsageRow) int {
			return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Key, b.Key))
		})
	case ByDay:
		start := now.Add(-since).In(loc)
		day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
		rep.From = day
		for day.Before(now) {
			next := day.AddDate(0, 0, 1) // a local day: 23 or 25 hours across DST
			end := next
			if end.After(now) {
				end = now
			}
			s, err := db.Summary(day, end)
			if err != nil {
				return UsageReport{}, err
			}
			rep.Rows = append(rep.Rows, UsageRow{Key: day.Format(time.DateOnly), Breakdown: storage.Breakdown{
				Requests: s.Requests, Errors: s.Errors.Total, Tokens: s.Tokens, CostUSD: s.CostUSD, UnknownPrice: s.UnknownPrice}})
			day = next
		}
	default:
		return UsageReport{}, fmt.Errorf("%w: by %q: want model, day or route", errBadQuery, by)
	}
	rep.Total.Key = "total"
	for _, r := range rep.Rows {
		rep.Total.Add(&r.Breakdown)
	}
	return rep, nil
}

// UsageHandler serves GET /_ferry/usage?since=7d&by=model|day|route.
func (h *Handlers) UsageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since := cmp.Or(q.Get("since"), "7d")
		span, err := ParseSpan(since)
		if err != nil {
			h.fail(w, r, errors.Join(errBadQuery, err))
			return
		}
		rep, err := Usage(h.db, span, cmp.Or(q.Get("by"), ByModel), h.now(), h.loc)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rep.Since = since
		proxy.WriteJSON(w, rep)
	})
}

// maxPricesBody bounds a PUT or POST to /_ferry/prices.
const maxPricesBody = 1 << 20

// PricesHandler serves /_ferry/prices: GET exports the table (the JSON
// Import reads), PUT sets one row (a PriceRow), POST imports a table,
// DELETE resets to the defaults. Each change answers with the new table.
func (h *Handlers) PricesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut:
			var row PriceRow
			body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPricesBody))
			if rerr != nil {
				h.fail(w, r, fmt.Errorf("%w: read body: %w", errBadQuery, rerr))
				return
			}
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&row); derr != nil {
				h.fail(w, r, fmt.Errorf("%w: price row: %w", errBadQuery, derr))
				return
			}
			err = h.prices.Set(row)
		case http.MethodPost:
			body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPricesBody))
			if rerr != nil {
				h.fail(w, r, fmt.Errorf("%w: read body: %w", errBadQuery, rerr))
				return
			}
			err = h.prices.Import(body)
		case http.MethodDelete:
			err = h.prices.Reset()
		default:
			w.Header().Set("Allow", "GET, PUT, POST, DELETE")
			proxy.WriteError(w, http.StatusMethodNotAllowed, "invalid_request_error", r.Method+" is not allowed on "+r.URL.Path)
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		proxy.WriteJSON(w, h.prices.Table())
	})
}

var errBadQuery = errors.New("bad query")

// fail answers with an Anthropic-shaped error: 400 for what the caller
// sent, 500 for the database.
func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBadQuery) || errors.Is(err, ErrBadPriceRow) || errors.Is(err, ErrBadPriceTable) ||
		errors.Is(err, storage.ErrBadRange) {
		proxy.WriteError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	h.log.Error("usage admin request failed", "path", r.URL.Path, "err", err)
	proxy.WriteError(w, http.StatusInternalServerError, "api_error", "Ferry could not read its usage database: "+err.Error())
}

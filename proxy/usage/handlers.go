package usage

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
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
	// Headroom is the tracker the Meters fill; nil shows none.
	Headroom *HeadroomTracker
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
	limits  *HeadroomTracker
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
		db: o.DB, prices: o.Prices, limits: o.Headroom, dropped: o.QueueDropped,
		now: o.Now, loc: o.Location, log: o.Logger,
		metrics: NewMetrics(MetricsOptions{Health: o.Health, QueueDropped: o.QueueDropped, Refused: o.Refused}),
	}
}

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

var errBadQuery = errors.New("bad query")

// fail answers with an Anthropic-shaped error: 400 for what the caller
// sent, 500 for the database.
func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errBadQuery) || errors.Is(err, ErrBadPriceRow) || errors.Is(err, ErrBadPriceTable) ||
		errors.Is(err, storage.ErrBadRange) {
		reply.Error(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	h.log.Error("usage admin request failed", "path", r.URL.Path, "err", err)
	reply.Error(w, http.StatusInternalServerError, "api_error", "Ferry could not read its usage database: "+err.Error())
}

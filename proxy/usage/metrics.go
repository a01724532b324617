package usage

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferry-gateway/ferry/storage"
)

// UpstreamHealth is one route's latest probe, for the upstream gauges.
type UpstreamHealth struct {
	Route   string
	Up      bool
	Latency time.Duration
}

// MetricsOptions configure NewMetrics.
type MetricsOptions struct {
	// Health reports the routes' health at scrape time; nil means none.
	Health func() []UpstreamHealth
	// QueueDropped reports records dropped by a full recorder queue; nil
	// means no such metric.
	QueueDropped func() uint64
	// Refused reports the requests Ferry's guards refused, by reason
	// (proxy.Refused…); they are not recorded in the history. nil means
	// no such metric.
	Refused func() map[string]uint64
}

// maxModelLabels bounds the distinct model labels: model ids come from
// clients, and a client sending random ids must not grow the registry
// without bound. Later ids are counted under "other".
const maxModelLabels = 64

// Metrics are Ferry's Prometheus metrics, in a registry of their own (not
// the global one, so tests and embedders get exactly these).
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	errors     *prometheus.CounterVec
	firstByte  *prometheus.HistogramVec
	firstToken *prometheus.HistogramVec
	total      *prometheus.HistogramVec
	tokens     *prometheus.CounterVec
	cost       *prometheus.CounterVec
	unknown    *prometheus.CounterVec
	cacheHits  prometheus.Counter

	mu     sync.Mutex
	models map[string]bool
}

// NewMetrics registers Ferry's metrics in a new registry.
func NewMetrics(o MetricsOptions) *Metrics {
	// 10 ms to 10 min: Opus may think for minutes before its first token.
	buckets := prometheus.ExponentialBucketsRange(0.01, 600, 20)
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_requests_total", Help: "API requests Ferry handled, by status class (2xx, 4xx, 5xx; 0xx when no status was sent), model and route.",
		}, []string{"status_class", "model", "route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_request_errors_total", Help: "Failed requests by error class (client_4xx, upstream_4xx, upstream_5xx, network, ferry).",
		}, []string{"class"}),
		firstByte: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ferry_first_byte_seconds", Help: "Time to the upstream's response headers.", Buckets: buckets,
		}, []string{"route"}),
		firstToken: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ferry_first_token_seconds", Help: "Time to the first content delta of a streamed response.", Buckets: buckets,
		}, []string{"route"}),
		total: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ferry_request_duration_seconds", Help: "Time to the end of the response.", Buckets: buckets,
		}, []string{"route"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_tokens_total", Help: "Tokens by price class (input, output, cache_write_5m, cache_write_1h, cache_read) and model.",
		}, []string{"class", "model"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_cost_usd_total", Help: "Spend in USD at Ferry's price table, requests with a known price only.",
		}, []string{"model"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_unknown_price_requests_total", Help: "Requests that used tokens of a model with no price (not counted as $0).",
		}, []string{"model"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ferry_cache_hits_total", Help: "Requests answered from Ferry's cache.",
		}),
		models: map[string]bool{},
	}
	m.reg.MustRegister(m.requests, m.errors, m.firstByte, m.firstToken, m.total, m.tokens, m.cost, m.unknown, m.cacheHits)
	if o.QueueDropped != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "ferry_record_queue_dropped_total", Help: "Usage records dropped because the recorder's queue was full.",
		}, func() float64 { return float64(o.QueueDropped()) }))
	}
	if o.Health != nil {
		m.reg.MustRegister(&healthCollector{health: o.Health})
	}
	if o.Refused != nil {
		m.reg.MustRegister(&refusedCollector{refused: o.Refused})
	}
	return m
}

// Registry returns the registry, for embedders that add their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) modelLabel(model string) string {
	model = storage.NormalizeModel(model) // bounded label length
	if model == "" {
		return storage.NoModel
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.models[model] {
		return model
	}
	if len(m.models) >= maxModelLabels {
		return "other"
	}
	m.models[model] = true
	return model
}

// Observe counts one finished request.
func (m *Metrics) Observe(rec *storage.Record) {
	if rec == nil {
		return
	}
	model := m.modelLabel(rec.Model)
	route := rec.Route
	if route == "" {
		route = storage.NoRoute
	}
	m.requests.WithLabelValues(strconv.Itoa(rec.Status/100)+"xx", model, route).Inc()
	if cls := storage.EffectiveClass(rec); cls != storage.ClassNone {
		m.errors.WithLabelValues(string(cls)).Inc()
	}
	if rec.FirstByte > 0 {
		m.firstByte.WithLabelValues(route).Observe(rec.FirstByte.Seconds())
	}
	if rec.FirstToken > 0 {
		m.firstToken.WithLabelValues(route).Observe(rec.FirstToken.Seconds())
	}
	if rec.Total > 0 {
		m.total.WithLabelValues(route).Observe(rec.Total.Seconds())
	}
	for _, c := range []struct {
		class string
		n     int64
	}{
		{"input", rec.Tokens.Input}, {"output", rec.Tokens.Output}, {"cache_write_5m", rec.Tokens.CacheWrite5m},
		{"cache_write_1h", rec.Tokens.CacheWrite1h}, {"cache_read", rec.Tokens.CacheRead},
	} {
		if c.n > 0 {
			m.tokens.WithLabelValues(c.class, model).Add(float64(c.n))
		}
	}
	switch {
	case rec.PriceKnown && rec.CostUSD > 0:
		m.cost.WithLabelValues(model).Add(rec.CostUSD)
	case !rec.PriceKnown && rec.Tokens.Prompt()+rec.Tokens.Output > 0:
		m.unknown.WithLabelValues(model).Inc()
	}
	if rec.CacheHit {
		m.cacheHits.Inc()
	}
}

// healthCollector reads the routes' health at scrape time, so a removed
// route disappears instead of lingering as a stale gauge.
type healthCollector struct {
	health func() []UpstreamHealth
}

var (
	upDesc  = prometheus.NewDesc("ferry_upstream_up", "1 when the route's last probe succeeded.", []string{"route"}, nil)
	latDesc = prometheus.NewDesc("ferry_upstream_probe_latency_seconds", "The route's last probe latency.", []string{"route"}, nil)
)

func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- upDesc
	ch <- latDesc
}

func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.health() {
		up := 0.0
		if h.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, h.Route)
		ch <- prometheus.MustNewConstMetric(latDesc, prometheus.GaugeValue, h.Latency.Seconds(), h.Route)
	}
}

var refusedDesc = prometheus.NewDesc("ferry_refused_requests_total",
	"Requests refused before they were recorded, by reason (host, origin, fetch_site, connect, target, connections).",
	[]string{"reason"}, nil)

// refusedCollector reads the guards' refusal counts at scrape time.
type refusedCollector struct {
	refused func() map[string]uint64
}

func (c *refusedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- refusedDesc }

func (c *refusedCollector) Collect(ch chan<- prometheus.Metric) {
	for reason, n := range c.refused() {
		ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(n), reason)
	}
}

// Observe counts one finished request in the Prometheus metrics. Call it
// for every events.RequestFinished.
func (h *Handlers) Observe(rec *storage.Record) { h.metrics.Observe(rec) }

// Metrics returns the Prometheus metrics the handlers serve.
func (h *Handlers) Metrics() *Metrics { return h.metrics }

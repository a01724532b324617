package retry

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-gateway/ferry/proxy/route"
)

// Metrics are the road's Prometheus metrics: retries, failovers, stream
// stalls and the routes' breakers. They are registered beside the usage
// metrics (usage.Metrics.Registry), on /_ferry/metrics.
type Metrics struct {
	retries   *prometheus.CounterVec
	failovers *prometheus.CounterVec
	stalls    *prometheus.CounterVec
	breakers  *prometheus.CounterVec
	routes    func() []route.Status
}

// NewMetrics makes the metrics; routes reports the routes at scrape time
// for the breaker-state gauge (nil: no gauge).
func NewMetrics(routes func() []route.Status) *Metrics {
	return &Metrics{
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_retries_total", Help: "Upstream attempts made again before anything reached the client, by reason (road: a road failure, status: a 5xx/529 retried once, rate_limit: a 429 with a short retry-after).",
		}, []string{"reason"}),
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_failovers_total", Help: "Accounts moved from one route to another after a road failure.",
		}, []string{"from", "to"}),
		stalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_stream_stalls_total", Help: "Event streams Ferry ended because they went silent (road.stream_idle_timeout) or their HTTP/2 connection stopped answering pings.",
		}, []string{"route"}),
		breakers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_route_breaker_transitions_total", Help: "Route breaker changes, by the state entered (open after 3 road failures in a row, half_open after a good probe, closed after a good request).",
		}, []string{"route", "state"}),
		routes: routes,
	}
}

// Register adds the metrics to reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.retries, m.failovers, m.stalls, m.breakers} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	if m.routes != nil {
		return reg.Register(breakerCollector{m.routes})
	}
	return nil
}

// BreakerChanged implements route.RoadMetrics.
func (m *Metrics) BreakerChanged(route, state string) {
	m.breakers.WithLabelValues(route, state).Inc()
}

// Failover implements route.RoadMetrics.
func (m *Metrics) Failover(from, to string) { m.failovers.WithLabelValues(from, to).Inc() }

// Stall counts one stream ended for silence on route.
func (m *Metrics) Stall(route string) { m.stalls.WithLabelValues(route).Inc() }

var _ route.RoadMetrics = (*Metrics)(nil)

var breakerDesc = prometheus.NewDesc("ferry_route_breaker_state",
	"1 for each route's current breaker state (closed, open, half_open).", []string{"route", "state"}, nil)

// breakerCollector reads the breakers at scrape time, so a removed route
// disappears.
type breakerCollector struct{ routes func() []route.Status }

func (c breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- breakerDesc }

func (c breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.routes() {
		for _, st := range []string{route.BreakerClosed, route.BreakerOpen, route.BreakerHalfOpen} {
			v := 0.0
			if s.Breaker == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, s.Name, st)
		}
	}
}

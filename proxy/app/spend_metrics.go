package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-gateway/ferry/proxy/budget"
)

// The spend guard's metrics on /_ferry/metrics, read from the guards at
// scrape time: spend against each budget, refusals, the queue, the
// subscription quota.
var (
	budgetSpentDesc = prometheus.NewDesc("ferry_budget_spent",
		"Spent of each budget in its current period (USD; requests for requests_daily; USD per minute for rate; the session budget is per session and not shown).",
		[]string{"budget", "basis", "mode"}, nil)
	budgetLimitDesc = prometheus.NewDesc("ferry_budget_limit", "Each budget's limit, in the unit of ferry_budget_spent.",
		[]string{"budget"}, nil)
	refusalsDesc = prometheus.NewDesc("ferry_spend_guard_refusals_total",
		"Requests the spend guard refused since start, by guard (budget, limit, brake) and reason (the budget, the limit, the brake's reason).",
		[]string{"guard", "reason"}, nil)
	queueDesc = prometheus.NewDesc("ferry_queue_requests",
		"Requests upstream (in_use) and waiting for a slot (waiting) in the concurrency queue.", []string{"state"}, nil)
	queueWaitsDesc = prometheus.NewDesc("ferry_queue_waits_total",
		"Requests that waited for an upstream slot since start.", nil, nil)
	queueWaitDesc = prometheus.NewDesc("ferry_queue_wait_seconds_total",
		"Their total wait.", nil, nil)
	quotaDesc = prometheus.NewDesc("ferry_quota_utilization",
		"The subscription quota's utilization (0..1) by account and window, as the last response showed it.",
		[]string{"account", "window"}, nil)
)

type spendCollector struct{ s *Server }

func (c spendCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{budgetSpentDesc, budgetLimitDesc, refusalsDesc, queueDesc, queueWaitsDesc, queueWaitDesc, quotaDesc} {
		ch <- d
	}
}

func (c spendCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	v := s.budgets.View("")
	for _, b := range v.Budgets {
		if b.Name == budget.Session {
			continue
		}
		ch <- prometheus.MustNewConstMetric(budgetSpentDesc, prometheus.GaugeValue, b.Spent, string(b.Name), string(b.Basis), string(b.Mode))
		ch <- prometheus.MustNewConstMetric(budgetLimitDesc, prometheus.GaugeValue, b.Limit, string(b.Name))
	}
	for n, k := range v.Refused {
		ch <- prometheus.MustNewConstMetric(refusalsDesc, prometheus.CounterValue, float64(k), "budget", string(n))
	}
	for n, k := range s.limits.Refusals() {
		ch <- prometheus.MustNewConstMetric(refusalsDesc, prometheus.CounterValue, float64(k), "limit", n)
	}
	for n, k := range s.brake.Refusals() {
		ch <- prometheus.MustNewConstMetric(refusalsDesc, prometheus.CounterValue, float64(k), "brake", n)
	}
	q := s.limits.Queue().State()
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(q.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(q.Waiting), "waiting")
	n, total := s.limits.QueueWaits()
	ch <- prometheus.MustNewConstMetric(queueWaitsDesc, prometheus.CounterValue, float64(n))
	ch <- prometheus.MustNewConstMetric(queueWaitDesc, prometheus.CounterValue, total.Seconds())
	for _, a := range s.quota.Accounts() {
		for _, w := range a.Windows {
			ch <- prometheus.MustNewConstMetric(quotaDesc, prometheus.GaugeValue, w.Utilization, a.Account, w.Name)
		}
	}
}

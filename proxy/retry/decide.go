package retry

import (
	"time"

	"github.com/ferry-gateway/ferry/proxy"
)

// stateKey keeps a request's State on its proxy.Outgoing.
var stateKey = proxy.NewStateKey("retry")

// Decide implements proxy.RetryPolicy.
func (p *Policy) Decide(out *proxy.Outgoing, n int, last proxy.AttemptResult, since time.Duration) proxy.RetryDecision {
	st, _ := out.Value(stateKey).(*State)
	if st == nil {
		st = &State{}
		out.Set(stateKey, st)
	}
	r := Result{Header: last.Header, Sent: last.Sent, ErrorBody: last.ErrorBody}
	if last.Class == "" || last.Class == proxy.ClassStatus {
		r.Status = last.Status
	}
	d := p.Next(st, n, r, since)
	if d.Again && p.Metrics != nil {
		p.Metrics.retries.WithLabelValues(d.Reason).Inc()
	}
	return proxy.RetryDecision{Again: d.Again, Wait: d.Wait, Failover: d.Failover}
}

var _ proxy.RetryPolicy = (*Policy)(nil)

package testsupport

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// step is one write (flushed) of a response body, after a silent gap.
type step struct {
	gap  time.Duration
	data []byte
}

// plan is everything a scenario answers.
type plan struct {
	status      int
	contentType string
	header      http.Header // extra headers (retry-after, ratelimit exhaustion)
	steps       []step
	stream      bool // no Content-Length, flush per step
	cut         bool // drop the connection after the steps
	usage       *Usage
	dependent   bool // the body depends on the request
}

func (p *plan) size() int {
	n := 0
	for _, s := range p.steps {
		n += len(s.data)
	}
	return n
}

// plans caches the plans that do not depend on the request, so a load test
// does not measure the fake building its canned stream again and again.
var plans sync.Map // scenario string → *plan

func cachedPlan(scenario string, sp spec, ri *reqInfo) *plan {
	if v, ok := plans.Load(scenario); ok {
		return v.(*plan)
	}
	p := buildPlan(sp, ri)
	if p.dependent {
		return &p
	}
	plans.Store(scenario, &p)
	return &p
}

func (p *plan) body() []byte {
	var b []byte
	for _, s := range p.steps {
		b = append(b, s.data...)
	}
	return b
}

// gzipBody is what the fake sends when it gzips: a gzip stream flushed after
// every step (so streams stay live) and closed unless the scenario cuts.
func (p *plan) gzipBody() []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, s := range p.steps {
		zw.Write(s.data)
		zw.Flush()
	}
	if !p.cut {
		zw.Close()
	}
	return buf.Bytes()
}

// reqInfo is what request-dependent scenarios look at.
type reqInfo struct {
	method    string
	path      string // without query
	query     map[string][]string
	body      []byte // first MaxRecordedBody bytes
	size      int64
	sum       [32]byte
	requestID string
}

// Body returns the exact (identity-encoded) body the fake sends for scenario,
// e.g. Body("large;frames=100"). For the cut scenarios it is the bytes sent
// before the connection drops. It fails with ErrRequestDependent for
// scenarios whose body depends on the request (errors carry the request id:
// use ErrorBody; count_tokens, echo, paginated models).
func Body(scenario string) ([]byte, error) {
	p, err := staticPlan(scenario)
	if err != nil {
		return nil, err
	}
	return p.body(), nil
}

// staticPlan is scenario's plan when it does not depend on the request.
func staticPlan(scenario string) (plan, error) {
	sp, err := parseScenario(scenario)
	if err != nil {
		return plan{}, err
	}
	p := buildPlan(sp, nil)
	if p.dependent {
		return plan{}, fmt.Errorf("%q: %w", scenario, ErrRequestDependent)
	}
	return p, nil
}

// GzipBody returns the exact bytes the fake sends for scenario when it
// gzips the response (a gzip stream flushed after every write).
func GzipBody(scenario string) ([]byte, error) {
	p, err := staticPlan(scenario)
	if err != nil {
		return nil, err
	}
	return p.gzipBody(), nil
}

// ExpectedUsage returns the usage a correct meter computes from scenario's
// response; ok is false for scenarios without usage (errors, models, …).
func ExpectedUsage(scenario string) (u Usage, ok bool, err error) {
	sp, err := parseScenario(scenario)
	if err != nil {
		return Usage{}, false, err
	}
	p := buildPlan(sp, nil)
	if p.usage == nil {
		return Usage{}, false, nil
	}
	return *p.usage, true, nil
}

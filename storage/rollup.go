package storage

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// Latency histograms have fixed log-spaced buckets: bucket 0 holds values
// under 1 µs, bucket i ≥ 1 holds [g^(i-1), g^i) µs with g = 1.04, and the
// last bucket also holds everything above ~24 h. A percentile is reported as
// the bucket's geometric midpoint, so it is within √1.04−1 ≈ 2 % of the
// exact value at that rank. Stored sparsely, so an idle minute costs a few bytes.
const (
	histGrowth  = 1.04
	histBuckets = 645 // g^(645-2) µs ≈ 25 h
)

var lnHistGrowth = math.Log(histGrowth)

type hist [histBuckets]uint64

func histIndex(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	i := 1 + int(math.Log(us)/lnHistGrowth)
	return min(i, histBuckets-1)
}

// histValueMS is the value a bucket stands for, in milliseconds.
func histValueMS(i int) float64 {
	if i == 0 {
		return 0.0005
	}
	return math.Pow(histGrowth, float64(i)-0.5) / 1000
}

func (h *hist) add(d time.Duration) { h[histIndex(d)]++ }

// Percentiles are latency percentiles in milliseconds. Count is how many
// requests had this latency at all (first_token is absent for requests that
// never produced content).
type Percentiles struct {
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Count uint64  `json:"count"`
}

// percentiles uses the nearest-rank definition: the value at rank
// ceil(p·n) of the sorted sample.
func (h *hist) percentiles() Percentiles {
	var n uint64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return Percentiles{}
	}
	ps := [3]float64{0.50, 0.95, 0.99}
	var out [3]float64
	var cum uint64
	j := 0
	for i, c := range h {
		cum += c
		for j < 3 && cum >= rank(ps[j], n) {
			out[j] = math.Round(histValueMS(i)*1000) / 1000
			j++
		}
		if j == 3 {
			break
		}
	}
	return Percentiles{P50: out[0], P95: out[1], P99: out[2], Count: n}
}

func rank(p float64, n uint64) uint64 {
	r := uint64(math.Ceil(p * float64(n)))
	return max(r, 1)
}

// Breakdown is the share of one model or one route in a window.
type Breakdown struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	Tokens   Tokens `json:"tokens"`
	// CostUSD sums known prices only; UnknownPrice counts requests with
	// tokens but no price, which are never counted as $0.
	CostUSD      float64 `json:"cost_usd"`
	UnknownPrice uint64  `json:"unknown_price"`
}

// Add sums o into b.
func (b *Breakdown) Add(o *Breakdown) {
	b.Requests += o.Requests
	b.Errors += o.Errors
	b.Tokens = b.Tokens.Add(o.Tokens)
	b.CostUSD += o.CostUSD
	b.UnknownPrice += o.UnknownPrice
}

// rollup aggregates every record whose Time falls in one minute, hour or day.
type rollup struct {
	requests, successes, cacheHits, unknownPrice uint64
	byClass                                      map[ErrorClass]uint64
	byType                                       map[string]uint64
	tokens                                       Tokens
	cost                                         float64
	firstByte, firstToken, total                 hist
	byModel, byRoute                             map[string]*Breakdown
	// What the dedup cache saved: written after byRoute only when any is
	// set, so rollups without cache activity keep format 1's exact bytes,
	// and a reader that predates them ignores them.
	savedUSD               float64
	savedTokens, coalesced uint64
	// Filter-list matches by list: written after the saved figures (which
	// are then written even when zero) only when any is set, the same
	// way, so older rollups and readers are unaffected.
	byFilter map[string]uint64
}

// Names used in breakdowns when a record lacks the field, so JSON never
// carries an empty key.
const (
	NoModel = "(none)"
	NoRoute = "(none)"
)

// EffectiveClass is the error class a record counts under: its ErrorClass,
// or, when the recorder left it empty, the one its status implies.
func EffectiveClass(r *Record) ErrorClass {
	if r.ErrorClass != ClassNone {
		return r.ErrorClass
	}
	switch {
	case r.Status >= 500:
		return ClassUpstream5xx
	case r.Status >= 400:
		return ClassUpstream4xx
	}
	return ClassNone
}

// effectiveErrorType names the error for the by-type counts when the
// record has none: the status, or the class.
func effectiveErrorType(r *Record, cls ErrorClass) string {
	if r.ErrorType != "" {
		return r.ErrorType
	}
	if r.Status >= 400 {
		return fmt.Sprintf("http_%d", r.Status)
	}
	return string(cls)
}

// unknownPrice: tokens were used but no price row matched. A request that
// used no tokens costs nothing whatever its model.
func unknownPrice(r *Record) bool {
	return !r.PriceKnown && r.Tokens.Prompt()+r.Tokens.Output > 0
}

func (g *rollup) apply(r *Record) {
	g.requests++
	cls := EffectiveClass(r)
	isErr := cls != ClassNone
	if isErr {
		if g.byClass == nil {
			g.byClass = map[ErrorClass]uint64{}
		}
		g.byClass[cls]++
		if g.byType == nil {
			g.byType = map[string]uint64{}
		}
		t := boundKey(effectiveErrorType(r, cls))
		if _, ok := g.byType[t]; !ok && len(g.byType) >= MaxBreakdownKeys {
			t = OtherKey
		}
		g.byType[t]++
	} else {
		g.successes++
	}
	if r.CacheHit {
		g.cacheHits++
	}
	if r.Coalesced {
		g.coalesced++
	}
	g.savedUSD += r.SavedUSD
	g.savedTokens += uint64(max(r.SavedTokens, 0))
	unknown := unknownPrice(r)
	var cost float64
	if r.PriceKnown {
		cost = r.CostUSD
	}
	if unknown {
		g.unknownPrice++
	}
	g.tokens = g.tokens.Add(r.Tokens)
	g.cost += cost
	if r.FirstByte > 0 {
		g.firstByte.add(r.FirstByte)
	}
	if r.FirstToken > 0 {
		g.firstToken.add(r.FirstToken)
	}
	if r.Total > 0 {
		g.total.add(r.Total)
	}
	one := Breakdown{Requests: 1, Tokens: r.Tokens, CostUSD: cost}
	if isErr {
		one.Errors = 1
	}
	if unknown {
		one.UnknownPrice = 1
	}
	model, route := NormalizeModel(r.Model), r.Route
	if model == "" {
		model = NoModel
	}
	if route == "" {
		route = NoRoute
	}
	g.byModel = addBreakdown(g.byModel, model, &one)
	g.byRoute = addBreakdown(g.byRoute, route, &one)
	for _, h := range r.FilterHits {
		g.byFilter = addCount(g.byFilter, boundKey(h.List), uint64(max(h.Count, 0)))
	}
}

// addCount adds n under k, with addBreakdown's bound on distinct keys.
func addCount(m map[string]uint64, k string, n uint64) map[string]uint64 {
	if m == nil {
		m = map[string]uint64{}
	}
	if _, ok := m[k]; !ok && len(m) >= MaxBreakdownKeys {
		k = OtherKey
	}
	m[k] += n
	return m
}

// addBreakdown adds o under k; past MaxBreakdownKeys distinct keys, a new
// key is counted under OtherKey so that no bucket grows without bound.
func addBreakdown(m map[string]*Breakdown, k string, o *Breakdown) map[string]*Breakdown {
	if m == nil {
		m = map[string]*Breakdown{}
	}
	if _, ok := m[k]; !ok && len(m) >= MaxBreakdownKeys {
		k = OtherKey
	}
	b := m[k]
	if b == nil {
		b = &Breakdown{}
		m[k] = b
	}
	b.Add(o)
	return m
}

func encodeTokens(e *encoder, t Tokens) {
	e.varint(t.Input)
	e.varint(t.Output)
	e.varint(t.CacheWrite5m)
	e.varint(t.CacheWrite1h)
	e.varint(t.CacheRead)
}

func decodeTokens(d *decoder) Tokens {
	return Tokens{Input: d.varint(), Output: d.varint(), CacheWrite5m: d.varint(), CacheWrite1h: d.varint(), CacheRead: d.varint()}
}

func encodeHist(e *encoder, h *hist) {
	n := 0
	for _, c := range h {
		if c != 0 {
			n++
		}
	}
	e.uvarint(uint64(n))
	last := 0
	for i, c := range h {
		if c != 0 {
			e.uvarint(uint64(i - last))
			e.uvarint(c)
			last = i
		}
	}
}

func decodeHistInto(d *decoder, h *hist) {
	n := d.uvarint()
	i := uint64(0)
	for range n {
		i += d.uvarint()
		c := d.uvarint()
		if d.err != nil {
			return
		}
		if i >= histBuckets {
			d.fail("histogram index")
			return
		}
		h[i] += c
	}
}

func encodeBreakdowns(e *encoder, m map[string]*Breakdown) {
	keys := slices.Sorted(maps.Keys(m)) // deterministic bytes
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		b := m[k]
		e.str(k)
		e.uvarint(b.Requests)
		e.uvarint(b.Errors)
		e.uvarint(b.UnknownPrice)
		encodeTokens(e, b.Tokens)
		e.float(b.CostUSD)
	}
}

func decodeBreakdownsInto(d *decoder, m map[string]*Breakdown) map[string]*Breakdown {
	n := d.uvarint()
	for range n {
		k := d.str()
		b := Breakdown{Requests: d.uvarint(), Errors: d.uvarint(), UnknownPrice: d.uvarint()}
		b.Tokens = decodeTokens(d)
		b.CostUSD = d.float()
		if d.err != nil {
			return m
		}
		m = addBreakdown(m, k, &b)
	}
	return m
}

func (g *rollup) encode(dst []byte) []byte {
	e := encoder{b: dst}
	e.b = append(e.b, rollupFormat1)
	e.uvarint(g.requests)
	e.uvarint(g.successes)
	e.uvarint(g.cacheHits)
	e.uvarint(g.unknownPrice)
	encodeTokens(&e, g.tokens)
	e.float(g.cost)
	classes := slices.Sorted(maps.Keys(g.byClass))
	e.uvarint(uint64(len(classes)))
	for _, c := range classes {
		e.str(string(c))
		e.uvarint(g.byClass[c])
	}
	types := slices.Sorted(maps.Keys(g.byType))
	e.uvarint(uint64(len(types)))
	for _, t := range types {
		e.str(t)
		e.uvarint(g.byType[t])
	}
	encodeHist(&e, &g.firstByte)
	encodeHist(&e, &g.firstToken)
	encodeHist(&e, &g.total)
	encodeBreakdowns(&e, g.byModel)
	encodeBreakdowns(&e, g.byRoute)
	if g.savedUSD != 0 || g.savedTokens != 0 || g.coalesced != 0 || len(g.byFilter) > 0 {
		e.float(g.savedUSD)
		e.uvarint(g.savedTokens)
		e.uvarint(g.coalesced)
	}
	if len(g.byFilter) > 0 {
		lists := slices.Sorted(maps.Keys(g.byFilter))
		e.uvarint(uint64(len(lists)))
		for _, l := range lists {
			e.str(l)
			e.uvarint(g.byFilter[l])
		}
	}
	return e.b
}

// mergeEncoded adds a stored rollup into g: the same code serves the
// recorder (load, apply, store) and the queries (sum many rollups).
func (g *rollup) mergeEncoded(v []byte) error { return g.merge(v, true) }

// merge with full false skips the error types and the model and route
// breakdowns, which a Series point does not show: a 30-day chart by hour
// then costs a fraction of the allocations.
func (g *rollup) merge(v []byte, full bool) error {
	if len(v) == 0 || v[0] != rollupFormat1 {
		return fmt.Errorf("%w: unknown rollup format", ErrCorrupt)
	}
	d := decoder{b: v[1:]}
	g.requests += d.uvarint()
	g.successes += d.uvarint()
	g.cacheHits += d.uvarint()
	g.unknownPrice += d.uvarint()
	g.tokens = g.tokens.Add(decodeTokens(&d))
	g.cost += d.float()
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		c := ErrorClass(d.str())
		if g.byClass == nil {
			g.byClass = map[ErrorClass]uint64{}
		}
		g.byClass[c] += d.uvarint()
	}
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		if !full {
			d.raw()
			d.uvarint()
			continue
		}
		t := d.str()
		if g.byType == nil {
			g.byType = map[string]uint64{}
		}
		g.byType[t] += d.uvarint()
	}
	decodeHistInto(&d, &g.firstByte)
	decodeHistInto(&d, &g.firstToken)
	decodeHistInto(&d, &g.total)
	if full {
		g.byModel = decodeBreakdownsInto(&d, g.byModel)
		g.byRoute = decodeBreakdownsInto(&d, g.byRoute)
	} else {
		skipBreakdowns(&d)
		skipBreakdowns(&d)
	}
	if d.err == nil && len(d.b) > 0 {
		g.savedUSD += d.float()
		g.savedTokens += d.uvarint()
		g.coalesced += d.uvarint()
	}
	if d.err == nil && len(d.b) > 0 {
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			k := d.str()
			g.byFilter = addCount(g.byFilter, k, d.uvarint())
		}
	}
	return d.err
}

// skipBreakdowns reads past encoded breakdowns without keeping them (a
// Series point shows none).
func skipBreakdowns(d *decoder) {
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		d.raw()
		d.uvarint()
		d.uvarint()
		d.uvarint()
		decodeTokens(d)
		d.float()
	}
}

// Rollup granularities. Keys are the big-endian Unix second at which the
// period starts (UTC), so a cursor range scan reads a time range in order.
type grain struct {
	bucket []byte
	size   int64 // seconds
}

var (
	grainMinute = grain{bucketMinute, 60}
	grainHour   = grain{bucketHour, 3600}
	grainDay    = grain{bucketDay, 86400}
	grains      = []grain{grainMinute, grainHour, grainDay}
)

func (g grain) start(t time.Time) int64 { return floorDiv(t.Unix(), g.size) * g.size }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func rollupKey(sec int64) []byte { return be64(uint64(max(sec, 0))) }

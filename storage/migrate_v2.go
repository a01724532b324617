package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Migration 2, frozen. It rebuilds the rollups from the usage records as
// schema version 2 defined both: record format 1 in, rollup format 1 out.
// It calls none of today's codecs or rollup code on purpose: those follow
// the current schema, and a migration that used them would write today's
// layout into a file that the next migrations still expect at version 2.
// Everything it needs is copied here and must never change; a new layout
// is a new migration that converts what this one wrote.

var (
	v2Root    = []byte("v1")
	v2Usage   = []byte("usage")
	v2Rollups = []byte("rollups")
	v2Grains  = []struct {
		bucket []byte
		size   int64
	}{{[]byte("minute"), 60}, {[]byte("hour"), 3600}, {[]byte("day"), 86400}}
)

const (
	v2RecordFormat = 1
	v2RollupFormat = 1
	v2HistBuckets  = 645
	v2HistGrowth   = 1.04
	v2ChunkRecords = 4096 // bounds memory: records are nearly in time order
)

var errV2Corrupt = errors.New("truncated value")

func migrateV2(tx *bolt.Tx) error {
	root := tx.Bucket(v2Root)
	rb, err := root.CreateBucketIfNotExists(v2Rollups)
	if err != nil {
		return err
	}
	for _, g := range v2Grains {
		if _, err := rb.CreateBucketIfNotExists(g.bucket); err != nil {
			return fmt.Errorf("bucket %s: %w", g.bucket, err)
		}
	}
	recs := make([]v2Record, 0, v2ChunkRecords)
	c := root.Bucket(v2Usage).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := v2DecodeRecord(v)
		if err != nil {
			return fmt.Errorf("%w: record %d: %w", ErrCorrupt, binary.BigEndian.Uint64(k), err)
		}
		recs = append(recs, r)
		if len(recs) == v2ChunkRecords {
			if err := v2AddToRollups(rb, recs); err != nil {
				return err
			}
			recs = recs[:0]
		}
	}
	return v2AddToRollups(rb, recs)
}

// v2Record holds the fields of a format-1 record that version 2's rollups
// sum.
type v2Record struct {
	unixSec                      int64
	model, route                 string
	status                       int64
	errorType, errorClass        string
	cacheHit, priceKnown         bool
	tokens                       [5]int64 // input, output, cache write 5m, 1h, cache read
	firstByte, firstToken, total int64
	cost                         float64
}

type v2Dec struct {
	b   []byte
	err error
}

func (d *v2Dec) fail() { d.err, d.b = errV2Corrupt, nil }

func (d *v2Dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *v2Dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *v2Dec) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *v2Dec) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *v2Dec) byte1() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// v2DecodeRecord reads record format 1 as version 2 wrote it. Bytes after
// the last field are ignored, as version 2 ignored them.
func v2DecodeRecord(v []byte) (v2Record, error) {
	if len(v) == 0 || v[0] != v2RecordFormat {
		return v2Record{}, errors.New("unknown format")
	}
	d := v2Dec{b: v[1:]}
	var r v2Record
	if t := d.varint(); t != math.MinInt64 {
		r.unixSec = floorDivV2(t, 1e9)
	}
	flags := d.byte1()
	r.cacheHit, r.priceKnown = flags&2 != 0, flags&8 != 0
	d.str() // method
	d.str() // path
	r.model = d.str()
	r.status = d.varint()
	r.errorType = d.str()
	r.errorClass = d.str()
	r.route = d.str()
	d.str() // client
	d.str() // request id
	d.str() // key fingerprint
	for i := range r.tokens {
		r.tokens[i] = d.varint()
	}
	d.str() // service tier
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		d.str()
		d.str()
	}
	r.firstByte, r.firstToken, r.total = d.varint(), d.varint(), d.varint()
	d.float() // tokens per second
	d.varint()
	d.varint() // bytes in, out
	r.cost = d.float()
	d.str() // price row
	d.str() // request body
	d.str() // response body
	return r, d.err
}

type v2Breakdown struct {
	requests, errors, unknownPrice uint64
	tokens                         [5]int64
	cost                           float64
}

func (b *v2Breakdown) add(o *v2Breakdown) {
	b.requests += o.requests
	b.errors += o.errors
	b.unknownPrice += o.unknownPrice
	for i := range b.tokens {
		b.tokens[i] += o.tokens[i]
	}
	b.cost += o.cost
}

type v2Rollup struct {
	requests, successes, cacheHits, unknownPrice uint64
	byClass, byType                              map[string]uint64
	tokens                                       [5]int64
	cost                                         float64
	hists                                        [3][v2HistBuckets]uint64 // first byte, first token, total
	byModel, byRoute                             map[string]*v2Breakdown
}

func v2AddToRollups(rb *bolt.Bucket, recs []v2Record) error {
	if len(recs) == 0 {
		return nil
	}
	for _, g := range v2Grains {
		b := rb.Bucket(g.bucket)
		b.FillPercent = 0.9
		groups := map[int64]*v2Rollup{}
		var order []int64
		for i := range recs {
			k := floorDivV2(recs[i].unixSec, g.size) * g.size
			r := groups[k]
			if r == nil {
				r = &v2Rollup{}
				if v := b.Get(v2Key(k)); v != nil {
					if err := r.merge(v); err != nil {
						return fmt.Errorf("%w: rollup %s %d: %w", ErrCorrupt, g.bucket, k, err)
					}
				}
				groups[k] = r
				order = append(order, k)
			}
			r.apply(&recs[i])
		}
		for _, k := range order {
			if err := b.Put(v2Key(k), groups[k].encode()); err != nil {
				return fmt.Errorf("put rollup %s %d: %w", g.bucket, k, err)
			}
		}
	}
	return nil
}

func v2Key(sec int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(max(sec, 0))) }

func floorDivV2(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func v2HistIndex(d int64) int {
	us := float64(d) / 1000
	if us < 1 {
		return 0
	}
	return min(1+int(math.Log(us)/math.Log(v2HistGrowth)), v2HistBuckets-1)
}

func (g *v2Rollup) apply(r *v2Record) {
	g.requests++
	cls := r.errorClass
	if cls == "" {
		switch {
		case r.status >= 500:
			cls = "upstream_5xx"
		case r.status >= 400:
			cls = "upstream_4xx"
		}
	}
	isErr := cls != ""
	if isErr {
		if g.byClass == nil {
			g.byClass = map[string]uint64{}
		}
		g.byClass[cls]++
		typ := r.errorType
		if typ == "" {
			if r.status >= 400 {
				typ = fmt.Sprintf("http_%d", r.status)
			} else {
				typ = cls
			}
		}
		if g.byType == nil {
			g.byType = map[string]uint64{}
		}
		g.byType[typ]++
	} else {
		g.successes++
	}
	if r.cacheHit {
		g.cacheHits++
	}
	var used int64
	for _, t := range r.tokens {
		used += t
	}
	unknown := !r.priceKnown && used > 0
	var cost float64
	if r.priceKnown {
		cost = r.cost
	}
	if unknown {
		g.unknownPrice++
	}
	for i := range g.tokens {
		g.tokens[i] += r.tokens[i]
	}
	g.cost += cost
	for i, d := range [3]int64{r.firstByte, r.firstToken, r.total} {
		if d > 0 {
			g.hists[i][v2HistIndex(d)]++
		}
	}
	one := v2Breakdown{requests: 1, tokens: r.tokens, cost: cost}
	if isErr {
		one.errors = 1
	}
	if unknown {
		one.unknownPrice = 1
	}
	model, route := r.model, r.route
	if model == "" {
		model = "(none)"
	}
	if route == "" {
		route = "(none)"
	}
	g.byModel = v2AddBreakdown(g.byModel, model, &one)
	g.byRoute = v2AddBreakdown(g.byRoute, route, &one)
}

func v2AddBreakdown(m map[string]*v2Breakdown, k string, o *v2Breakdown) map[string]*v2Breakdown {
	if m == nil {
		m = map[string]*v2Breakdown{}
	}
	if m[k] == nil {
		m[k] = &v2Breakdown{}
	}
	m[k].add(o)
	return m
}

type v2Enc struct{ b []byte }

func (e *v2Enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *v2Enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *v2Enc) float(v float64)  { e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v)) }
func (e *v2Enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *v2Enc) counts(m map[string]uint64) {
	keys := slices.Sorted(maps.Keys(m))
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.uvarint(m[k])
	}
}

func (e *v2Enc) breakdowns(m map[string]*v2Breakdown) {
	keys := slices.Sorted(maps.Keys(m))
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		b := m[k]
		e.str(k)
		e.uvarint(b.requests)
		e.uvarint(b.errors)
		e.uvarint(b.unknownPrice)
		for _, t := range b.tokens {
			e.varint(t)
		}
		e.float(b.cost)
	}
}

func (g *v2Rollup) encode() []byte {
	e := v2Enc{b: []byte{v2RollupFormat}}
	e.uvarint(g.requests)
	e.uvarint(g.successes)
	e.uvarint(g.cacheHits)
	e.uvarint(g.unknownPrice)
	for _, t := range g.tokens {
		e.varint(t)
	}
	e.float(g.cost)
	e.counts(g.byClass)
	e.counts(g.byType)
	for i := range g.hists {
		h := &g.hists[i]
		n := 0
		for _, c := range h {
			if c != 0 {
				n++
			}
		}
		e.uvarint(uint64(n))
		last := 0
		for j, c := range h {
			if c != 0 {
				e.uvarint(uint64(j - last))
				e.uvarint(c)
				last = j
			}
		}
	}
	e.breakdowns(g.byModel)
	e.breakdowns(g.byRoute)
	return e.b
}

// merge adds a rollup this migration wrote earlier in the same run (a
// previous chunk of records in the same period).
func (g *v2Rollup) merge(v []byte) error {
	if len(v) == 0 || v[0] != v2RollupFormat {
		return errors.New("unknown rollup format")
	}
	d := v2Dec{b: v[1:]}
	g.requests += d.uvarint()
	g.successes += d.uvarint()
	g.cacheHits += d.uvarint()
	g.unknownPrice += d.uvarint()
	for i := range g.tokens {
		g.tokens[i] += d.varint()
	}
	g.cost += d.float()
	for _, m := range []*map[string]uint64{&g.byClass, &g.byType} {
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			k := d.str()
			if *m == nil {
				*m = map[string]uint64{}
			}
			(*m)[k] += d.uvarint()
		}
	}
	for i := range g.hists {
		j := uint64(0)
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			j += d.uvarint()
			c := d.uvarint()
			if j >= v2HistBuckets {
				d.fail()
				break
			}
			g.hists[i][j] += c
		}
	}
	for _, m := range []*map[string]*v2Breakdown{&g.byModel, &g.byRoute} {
		for n := d.uvarint(); n > 0 && d.err == nil; n-- {
			k := d.str()
			b := v2Breakdown{requests: d.uvarint(), errors: d.uvarint(), unknownPrice: d.uvarint()}
			for i := range b.tokens {
				b.tokens[i] = d.varint()
			}
			b.cost = d.float()
			*m = v2AddBreakdown(*m, k, &b)
		}
	}
	return d.err
}

package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrorCounts are the failed requests of a window.
type ErrorCounts struct {
	Total   uint64                `json:"total"`
	ByClass map[ErrorClass]uint64 `json:"by_class"` // every class present, zero or not
	ByType  map[string]uint64     `json:"by_type"`  // error type (e.g. overloaded_error), or http_<status> when the record had none
}

// Latency holds the percentiles of the three latencies Ferry measures.
type Latency struct {
	FirstByte  Percentiles `json:"first_byte"`  // to the upstream's response headers
	FirstToken Percentiles `json:"first_token"` // to the first content delta
	Total      Percentiles `json:"total"`
}

// Summary aggregates a window of requests. Its JSON names are the ones
// /_ferry/stats serves.
type Summary struct {
	// From and To are the window actually summed: the request rounded out to
	// whole minutes, and to whole hours or days where finer rollups were pruned.
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	Requests    uint64      `json:"requests"`
	Successes   uint64      `json:"successes"`
	SuccessRate float64     `json:"success_rate"` // Successes/Requests; 0 when there were no requests
	Errors      ErrorCounts `json:"errors"`
	LatencyMS   Latency     `json:"latency_ms"`
	Tokens      Tokens      `json:"tokens"`
	// CostUSD sums requests with a known price. UnknownPrice counts requests
	// that used tokens of a model with no price: they are never counted as $0.
	CostUSD      float64 `json:"cost_usd"`
	UnknownPrice uint64  `json:"unknown_price"`
	CacheHits    uint64  `json:"cache_hits"`
	// Coalesced counts answers shared with an identical request in
	// flight; SavedUSD and SavedTokens what hits and sharing saved.
	Coalesced   uint64               `json:"coalesced"`
	SavedUSD    float64              `json:"saved_usd"`
	SavedTokens uint64               `json:"saved_tokens"`
	ByModel     map[string]Breakdown `json:"by_model"`
	ByRoute     map[string]Breakdown `json:"by_route"`
	// FilterHits counts filter-list matches by list (requests and answers).
	FilterHits map[string]uint64 `json:"filter_hits,omitempty"`
}

// Point is one step of a Series.
type Point struct {
	Start        time.Time             `json:"start"`
	Requests     uint64                `json:"requests"`
	Errors       map[ErrorClass]uint64 `json:"errors"` // by class, every class present
	Tokens       Tokens                `json:"tokens"`
	CostUSD      float64               `json:"cost_usd"`
	UnknownPrice uint64                `json:"unknown_price"`
	LatencyMS    Latency               `json:"latency_ms"`
	FilterHits   map[string]uint64     `json:"filter_hits,omitempty"` // filter-list matches by list
}

// ErrorClasses lists every failure class, in display order.
var ErrorClasses = []ErrorClass{ClassClient4xx, ClassUpstream4xx, ClassUpstream5xx, ClassNetwork, ClassFerry}

// MaxSeriesPoints bounds Series, so a 1-minute step over a year is refused
// rather than computed.
const MaxSeriesPoints = 10000

func classCounts(m map[ErrorClass]uint64) map[ErrorClass]uint64 {
	out := make(map[ErrorClass]uint64, len(ErrorClasses))
	for _, c := range ErrorClasses {
		out[c] = 0
	}
	maps.Copy(out, m)
	return out
}

func (g *rollup) latency() Latency {
	return Latency{FirstByte: g.firstByte.percentiles(), FirstToken: g.firstToken.percentiles(), Total: g.total.percentiles()}
}

func (g *rollup) summary(from, to time.Time) Summary {
	s := Summary{
		From:         from,
		To:           to,
		Requests:     g.requests,
		Successes:    g.successes,
		Errors:       ErrorCounts{Total: g.requests - g.successes, ByClass: classCounts(g.byClass), ByType: map[string]uint64{}},
		LatencyMS:    g.latency(),
		Tokens:       g.tokens,
		CostUSD:      g.cost,
		UnknownPrice: g.unknownPrice,
		CacheHits:    g.cacheHits,
		Coalesced:    g.coalesced,
		SavedUSD:     g.savedUSD,
		SavedTokens:  g.savedTokens,
		ByModel:      make(map[string]Breakdown, len(g.byModel)),
		ByRoute:      make(map[string]Breakdown, len(g.byRoute)),
		FilterHits:   maps.Clone(g.byFilter),
	}
	if g.requests > 0 {
		s.SuccessRate = float64(g.successes) / float64(g.requests)
	}
	maps.Copy(s.Errors.ByType, g.byType)
	for k, b := range g.byModel {
		s.ByModel[k] = *b
	}
	for k, b := range g.byRoute {
		s.ByRoute[k] = *b
	}
	return s
}

// Summary sums every request whose Time is in [from, to). It reads the
// coarsest rollups that exactly cover the window: whole days, then hours,
// then minutes at the edges, so a year costs a few hundred reads.
func (db *DB) Summary(from, to time.Time) (Summary, error) {
	if to.Before(from) {
		return Summary{}, fmt.Errorf("summary from %s to %s: %w", from, to, ErrBadRange)
	}
	var (
		g        rollup
		a, b     int64
		err      error
		fromSecs = floorDiv(from.Unix(), 60) * 60
		toSecs   = -floorDiv(-to.Unix(), 60) * 60 // round up
	)
	if to.Nanosecond() != 0 && to.Unix()%60 == 0 {
		toSecs += 60 // to=12:00:00.5 still includes the minute starting 12:00:00
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		a, b = widen(tx, fromSecs, toSecs, false)
		return sumRange(tx, a, b, &g, true)
	})
	if err != nil {
		return Summary{}, fmt.Errorf("summary from %s to %s: %w", from, to, err)
	}
	return g.summary(time.Unix(a, 0), time.Unix(b, 0)), nil
}

// Series cuts [from, to) into steps (a whole number of minutes, starting at
// from rounded down to the minute) and sums each. Where minute or hour
// rollups were pruned, a coarser rollup counts in the step holding its start.
func (db *DB) Series(from, to time.Time, step time.Duration) ([]Point, error) {
	if step < time.Minute || step%time.Minute != 0 {
		return nil, fmt.Errorf("series step %s is not a whole number of minutes: %w", step, ErrBadRange)
	}
	if to.Before(from) {
		return nil, fmt.Errorf("series from %s to %s: %w", from, to, ErrBadRange)
	}
	start := floorDiv(from.Unix(), 60) * 60
	end := to.Unix()
	st := int64(step / time.Second)
	n := (end - start + st - 1) / st
	if n > MaxSeriesPoints {
		return nil, fmt.Errorf("series of %d points (most is %d): %w", n, MaxSeriesPoints, ErrBadRange)
	}
	points := make([]Point, 0, n)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var g rollup
		for t := start; t < end; t += st {
			g = rollup{}
			a, b := widen(tx, t, min(t+st, -floorDiv(-end, 60)*60), true)
			if err := sumRange(tx, a, b, &g, false); err != nil {
				return err
			}
			points = append(points, Point{
				Start:        time.Unix(t, 0),
				Requests:     g.requests,
				Errors:       classCounts(g.byClass),
				Tokens:       g.tokens,
				CostUSD:      g.cost,
				UnknownPrice: g.unknownPrice,
				LatencyMS:    g.latency(),
				FilterHits:   g.byFilter,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("series from %s to %s: %w", from, to, err)
	}
	return points, nil
}

// widen moves [a, b) (whole minutes) onto whole hours where minute rollups
// were pruned and onto whole days where hour rollups were. A summary widens
// outwards (it covers at least what was asked); a series step moves both
// edges down, so consecutive steps still partition time.
func widen(tx *bolt.Tx, a, b int64, down bool) (int64, int64) {
	rb := sub(tx, bucketRollups)
	for _, h := range []struct {
		key  []byte
		size int64
	}{{keyMinuteHorizon, 3600}, {keyHourHorizon, 86400}} {
		v := rb.Get(h.key)
		if len(v) != 8 {
			continue
		}
		horizon := int64(binary.BigEndian.Uint64(v))
		if a < horizon {
			a = floorDiv(a, h.size) * h.size
		}
		if b < horizon {
			if down {
				b = floorDiv(b, h.size) * h.size
			} else {
				b = -floorDiv(-b, h.size) * h.size
			}
		}
	}
	return a, b
}

// sumRange adds the rollups covering [a, b) (Unix seconds, whole minutes)
// into g: minutes up to the first whole hour, hours up to the first whole
// day, days, then hours and minutes after the last whole day.
func sumRange(tx *bolt.Tx, a, b int64, g *rollup, full bool) error {
	if b <= a {
		return nil
	}
	ceil := func(t, size int64) int64 { return -floorDiv(-t, size) * size }
	floor := func(t, size int64) int64 { return floorDiv(t, size) * size }
	h1, d1, d2, h2 := ceil(a, 3600), ceil(a, 86400), floor(b, 86400), floor(b, 3600)
	type part struct {
		g    grain
		a, b int64
	}
	var parts []part
	switch {
	case d1 <= d2:
		parts = []part{{grainMinute, a, h1}, {grainHour, h1, d1}, {grainDay, d1, d2}, {grainHour, d2, h2}, {grainMinute, h2, b}}
	case h1 <= h2:
		parts = []part{{grainMinute, a, h1}, {grainHour, h1, h2}, {grainMinute, h2, b}}
	default:
		parts = []part{{grainMinute, a, b}}
	}
	rb := sub(tx, bucketRollups)
	for _, p := range parts {
		if p.b <= p.a {
			continue
		}
		c := rb.Bucket(p.g.bucket).Cursor()
		end := rollupKey(p.b)
		for k, v := c.Seek(rollupKey(p.a)); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
			if err := g.merge(v, full); err != nil {
				return fmt.Errorf("rollup %s %d: %w", p.g.bucket, binary.BigEndian.Uint64(k), err)
			}
		}
	}
	return nil
}

// Records returns up to limit records, newest first, with IDs below before
// (0 = from the newest). limit ≤ 0 means 50; at most 10000.
func (db *DB) Records(before uint64, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 10000)
	var out []Record
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := sub(tx, bucketUsage).Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else {
			k, v = c.Seek(be64(before))
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && binary.BigEndian.Uint64(k) >= before {
				k, v = c.Prev()
			}
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			r, err := decodeRecord(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	return out, nil
}

// EachRecord calls fn, oldest first, for every stored record whose Time is
// in [from, to); a zero to means no upper bound. It stops at fn's first error
// and returns it. For exports: it holds a read transaction while it runs.
func (db *DB) EachRecord(from, to time.Time, fn func(Record) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := sub(tx, bucketUsage).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			t, err := recordTime(v)
			if err != nil {
				return fmt.Errorf("record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if t.Before(from) || (!to.IsZero() && !t.Before(to)) {
				continue
			}
			r, err := decodeRecord(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// EachRecordSince calls fn, newest first, for every stored record whose
// Time is at or after from: what the budgets read at start, without
// scanning the months before. Records are keyed in the order they ended,
// so it walks back from the newest and stops at the first that ended more
// than an hour before from (the slack covers the recorder's batching); a
// long request that started before from and ended after it is passed
// over, not taken for the end. It stops at fn's first error and returns it.
func (db *DB) EachRecordSince(from time.Time, fn func(Record) error) error {
	stop := from.Add(-pruneSlack)
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := sub(tx, bucketUsage).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := decodeRecord(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if r.Time.Add(r.Total).Before(stop) {
				return nil
			}
			if r.Time.Before(from) {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Count returns how many records are stored. It walks the usage bucket's
// pages: fine for a status line, not for every request.
func (db *DB) Count() (int, error) {
	var n int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = sub(tx, bucketUsage).Stats().KeyN
		return nil
	})
	return n, err
}

// Size is the database file's size in bytes, as the dashboard shows it.
func (db *DB) Size() (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n, err
}

package storage

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// brute computes a Summary from the records themselves, with exact
// nearest-rank percentiles, for comparison with the rollups.
func brute(recs []Record, from, to time.Time) Summary {
	s := Summary{
		Errors:  ErrorCounts{ByClass: classCounts(nil), ByType: map[string]uint64{}},
		ByModel: map[string]Breakdown{},
		ByRoute: map[string]Breakdown{},
	}
	var fb, ft, tot []time.Duration
	for i := range recs {
		r := &recs[i]
		if r.Time.Before(from) || !r.Time.Before(to) {
			continue
		}
		s.Requests++
		cls := EffectiveClass(r)
		one := Breakdown{Requests: 1, Tokens: r.Tokens}
		if cls == ClassNone {
			s.Successes++
		} else {
			s.Errors.Total++
			s.Errors.ByClass[cls]++
			s.Errors.ByType[effectiveErrorType(r, cls)]++
			one.Errors = 1
		}
		if r.PriceKnown {
			s.CostUSD += r.CostUSD
			one.CostUSD = r.CostUSD
		} else if r.Tokens.Prompt()+r.Tokens.Output > 0 {
			s.UnknownPrice++
			one.UnknownPrice = 1
		}
		if r.CacheHit {
			s.CacheHits++
		}
		if r.Coalesced {
			s.Coalesced++
		}
		s.SavedUSD += r.SavedUSD
		s.SavedTokens += uint64(r.SavedTokens)
		s.Tokens = s.Tokens.Add(r.Tokens)
		model, route := r.Model, r.Route
		if model == "" {
			model = NoModel
		}
		if route == "" {
			route = NoRoute
		}
		m := s.ByModel[model]
		m.Add(&one)
		s.ByModel[model] = m
		rt := s.ByRoute[route]
		rt.Add(&one)
		s.ByRoute[route] = rt
		if r.FirstByte > 0 {
			fb = append(fb, r.FirstByte)
		}
		if r.FirstToken > 0 {
			ft = append(ft, r.FirstToken)
		}
		if r.Total > 0 {
			tot = append(tot, r.Total)
		}
	}
	if s.Requests > 0 {
		s.SuccessRate = float64(s.Successes) / float64(s.Requests)
	}
	s.LatencyMS = Latency{FirstByte: exactPercentiles(fb), FirstToken: exactPercentiles(ft), Total: exactPercentiles(tot)}
	return s
}

func exactPercentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		return float64(ds[rank(p, uint64(len(ds)))-1]) / float64(time.Millisecond)
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Count: uint64(len(ds))}
}

func closeEnough(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))+1e-9
}

// histTolerance: the midpoint of a 4 % bucket is within 1.98 % of any value
// in it; a little more for rounding to 1 µs.
const histTolerance = 0.0205

func compareSummary(t *testing.T, name string, got, want Summary) {
	t.Helper()
	if got.Requests != want.Requests || got.Successes != want.Successes || got.CacheHits != want.CacheHits ||
		got.UnknownPrice != want.UnknownPrice || got.Tokens != want.Tokens || got.Errors.Total != want.Errors.Total {
		t.Errorf("%s: counts differ:\n got req=%d ok=%d hits=%d unknown=%d err=%d tokens=%+v\nwant req=%d ok=%d hits=%d unknown=%d err=%d tokens=%+v",
			name, got.Requests, got.Successes, got.CacheHits, got.UnknownPrice, got.Errors.Total, got.Tokens,
			want.Requests, want.Successes, want.CacheHits, want.UnknownPrice, want.Errors.Total, want.Tokens)
	}
	if got.Coalesced != want.Coalesced || got.SavedTokens != want.SavedTokens || !closeEnough(got.SavedUSD, want.SavedUSD, 1e-9) {
		t.Errorf("%s: saved: got coalesced=%d tokens=%d usd=%v, want %d %d %v", name,
			got.Coalesced, got.SavedTokens, got.SavedUSD, want.Coalesced, want.SavedTokens, want.SavedUSD)
	}
	if !closeEnough(got.CostUSD, want.CostUSD, 1e-9) || !closeEnough(got.SuccessRate, want.SuccessRate, 1e-12) {
		t.Errorf("%s: cost %v rate %v, want %v %v", name, got.CostUSD, got.SuccessRate, want.CostUSD, want.SuccessRate)
	}
	for _, c := range ErrorClasses {
		if got.Errors.ByClass[c] != want.Errors.ByClass[c] {
			t.Errorf("%s: errors[%s] = %d, want %d", name, c, got.Errors.ByClass[c], want.Errors.ByClass[c])
		}
	}
	if len(got.Errors.ByClass) != len(ErrorClasses) {
		t.Errorf("%s: by_class has %d keys, want every class", name, len(got.Errors.ByClass))
	}
	if len(got.Errors.ByType) != len(want.Errors.ByType) {
		t.Errorf("%s: by_type %v, want %v", name, got.Errors.ByType, want.Errors.ByType)
	}
	for k, v := range want.Errors.ByType {
		if got.Errors.ByType[k] != v {
			t.Errorf("%s: by_type[%s] = %d, want %d", name, k, got.Errors.ByType[k], v)
		}
	}
	for _, bd := range []struct {
		what      string
		got, want map[string]Breakdown
	}{{"by_model", got.ByModel, want.ByModel}, {"by_route", got.ByRoute, want.ByRoute}} {
		if len(bd.got) != len(bd.want) {
			t.Errorf("%s: %s has %d keys, want %d", name, bd.what, len(bd.got), len(bd.want))
		}
		for k, w := range bd.want {
			g := bd.got[k]
			if g.Requests != w.Requests || g.Errors != w.Errors || g.Tokens != w.Tokens || g.UnknownPrice != w.UnknownPrice ||
				!closeEnough(g.CostUSD, w.CostUSD, 1e-9) {
				t.Errorf("%s: %s[%s] = %+v, want %+v", name, bd.what, k, g, w)
			}
		}
	}
	for _, l := range []struct {
		what      string
		got, want Percentiles
	}{
		{"first_byte", got.LatencyMS.FirstByte, want.LatencyMS.FirstByte},
		{"first_token", got.LatencyMS.FirstToken, want.LatencyMS.FirstToken},
		{"total", got.LatencyMS.Total, want.LatencyMS.Total},
	} {
		if l.got.Count != l.want.Count {
			t.Errorf("%s: %s count %d, want %d", name, l.what, l.got.Count, l.want.Count)
		}
		for _, p := range []struct {
			q         string
			got, want float64
		}{{"p50", l.got.P50, l.want.P50}, {"p95", l.got.P95, l.want.P95}, {"p99", l.got.P99, l.want.P99}} {
			if !closeEnough(p.got, p.want, histTolerance) {
				t.Errorf("%s: %s %s = %.3f ms, exact %.3f ms (off by %.2f%%)", name, l.what, p.q, p.got, p.want,
					100*math.Abs(p.got-p.want)/p.want)
			}
		}
	}
}

func TestHistogramResolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		d := logUniform(rng, time.Microsecond, 24*time.Hour)
		got := histValueMS(histIndex(d))
		want := float64(d) / float64(time.Millisecond)
		if !closeEnough(got, want, 0.0199) {
			t.Fatalf("%v lands in bucket %d standing for %.6f ms (%.2f%% off)", d, histIndex(d), got, 100*math.Abs(got-want)/want)
		}
	}
	if histIndex(0) != 0 || histIndex(1000*time.Hour) != histBuckets-1 {
		t.Fatal("out-of-range latencies not clamped to the end buckets")
	}
}

// TestRollupsMatchBruteForce stores random records over four days and
// checks Summary and Series against sums over the records themselves, for
// windows aligned and not, spanning minutes, hours and days.
func TestRollupsMatchBruteForce(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	rng := rand.New(rand.NewPCG(7, 8))
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	span := 4 * 24 * time.Hour
	recs := make([]Record, 30000)
	for i := range recs {
		recs[i] = randomRecord(rng, base.Add(time.Duration(rng.Int64N(int64(span)))), i)
	}
	// Write in shuffled batches: order in the file must not matter.
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	writeDirect(t, db, recs)

	windows := []struct {
		name     string
		from, to time.Time
	}{
		{"everything", base.Add(-time.Hour), base.Add(span + time.Hour)},
		{"one minute", base.Add(37 * time.Minute), base.Add(38 * time.Minute)},
		{"5m", base.Add(26*time.Hour + 3*time.Minute), base.Add(26*time.Hour + 8*time.Minute)},
		{"1h unaligned", base.Add(50*time.Hour + 17*time.Minute), base.Add(51*time.Hour + 17*time.Minute)},
		{"one day exactly", base.Add(24 * time.Hour), base.Add(48 * time.Hour)},
		{"days with ragged edges", base.Add(5*time.Hour + 13*time.Minute), base.Add(75*time.Hour + 41*time.Minute)},
		{"hours inside a day", base.Add(3 * time.Hour), base.Add(9 * time.Hour)},
		{"across midnight", base.Add(23*time.Hour + 30*time.Minute), base.Add(24*time.Hour + 30*time.Minute)},
		{"empty", base.Add(10 * time.Hour), base.Add(10 * time.Hour)},
		{"before any data", base.Add(-48 * time.Hour), base.Add(-24 * time.Hour)},
	}
	for range 20 {
		a := base.Add(time.Duration(rng.Int64N(int64(span))))
		b := a.Add(time.Duration(rng.Int64N(int64(span))))
		windows = append(windows, struct {
			name     string
			from, to time.Time
		}{"random " + a.Format(time.DateTime) + "+" + b.Sub(a).String(), a, b})
	}
	for _, w := range windows {
		got, err := db.Summary(w.from, w.to)
		if err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		// Summary rounds out to whole minutes and says so.
		if got.From.After(w.from) || got.To.Before(w.to) || w.from.Sub(got.From) >= time.Minute || got.To.Sub(w.to) >= time.Minute {
			t.Errorf("%s: summed [%v, %v) for [%v, %v)", w.name, got.From, got.To, w.from, w.to)
		}
		compareSummary(t, w.name, got, brute(recs, got.From, got.To))
	}

	t.Run("series", func(t *testing.T) {
		for _, tc := range []struct {
			from time.Time
			step time.Duration
			n    int
		}{
			{base, 24 * time.Hour, 4},
			{base.Add(90 * time.Minute), time.Hour, 30},
			{base.Add(7 * time.Minute), 15 * time.Minute, 100},
			{base.Add(-time.Hour), 6 * time.Hour, 17},
		} {
			to := tc.from.Add(time.Duration(tc.n) * tc.step)
			pts, err := db.Series(tc.from, to, tc.step)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != tc.n {
				t.Fatalf("%d points, want %d", len(pts), tc.n)
			}
			for i, p := range pts {
				start := tc.from.Add(time.Duration(i) * tc.step)
				if !p.Start.Equal(start) {
					t.Fatalf("point %d starts %v, want %v", i, p.Start, start)
				}
				want := brute(recs, start, start.Add(tc.step))
				got := Summary{Requests: p.Requests, Tokens: p.Tokens, CostUSD: p.CostUSD, UnknownPrice: p.UnknownPrice, LatencyMS: p.LatencyMS}
				if p.Requests != want.Requests || p.Tokens != want.Tokens || p.UnknownPrice != want.UnknownPrice ||
					!closeEnough(p.CostUSD, want.CostUSD, 1e-9) {
					t.Errorf("point %v: %+v, want %+v", start, got, want)
				}
				for _, c := range ErrorClasses {
					if p.Errors[c] != want.Errors.ByClass[c] {
						t.Errorf("point %v: errors[%s] = %d, want %d", start, c, p.Errors[c], want.Errors.ByClass[c])
					}
				}
				if !closeEnough(p.LatencyMS.Total.P95, want.LatencyMS.Total.P95, histTolerance) {
					t.Errorf("point %v: total p95 %.3f, exact %.3f", start, p.LatencyMS.Total.P95, want.LatencyMS.Total.P95)
				}
			}
		}
	})
}

func TestQueryRangeErrors(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	now := time.Now()
	if _, err := db.Summary(now, now.Add(-time.Minute)); !errors.Is(err, ErrBadRange) {
		t.Errorf("reversed Summary: %v", err)
	}
	for _, tc := range []struct {
		from, to time.Time
		step     time.Duration
	}{
		{now, now.Add(time.Hour), 0},
		{now, now.Add(time.Hour), 90 * time.Second},
		{now, now.Add(-time.Hour), time.Minute},
		{now.Add(-365 * 24 * time.Hour), now, time.Minute},
	} {
		if _, err := db.Series(tc.from, tc.to, tc.step); !errors.Is(err, ErrBadRange) {
			t.Errorf("Series(%v, %v, %v): %v, want ErrBadRange", tc.from, tc.to, tc.step, err)
		}
	}
	s, err := db.Summary(now.Add(-time.Hour), now)
	if err != nil || s.Requests != 0 || s.SuccessRate != 0 || len(s.Errors.ByClass) != len(ErrorClasses) || s.ByModel == nil {
		t.Errorf("empty summary %+v, %v", s, err)
	}
}

// TestEachRecordSince: newest first, only what started at or after from,
// a long request that started before from passed over, not taken for the
// end of the walk.
func TestEachRecordSince(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "ferry.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var recs []Record
	for i := range 50 { // 25 days before from, then 25 after, one a day
		recs = append(recs, Record{Time: from.Add(time.Duration(i-25) * 24 * time.Hour), Method: "POST", Path: "/v1/messages", Status: 200, Total: time.Second})
	}
	// Ended just now after three hours: started before from, written last.
	recs = append(recs, Record{Time: from.Add(24*24*time.Hour + 21*time.Hour), Method: "POST", Path: "/v1/messages", Status: 200, Total: 3 * time.Hour})
	recs = append(recs, Record{Time: from.Add(-2 * time.Hour), Method: "POST", Path: "/v1/messages", Status: 200, Total: 25*24*time.Hour + 3*time.Hour})
	recs = append(recs, Record{Time: from.Add(25 * 24 * time.Hour), Method: "POST", Path: "/v1/messages", Status: 200, Total: time.Second})
	writeDirect(t, db, recs)
	var got []time.Time
	if err := db.EachRecordSince(from, func(r Record) error { got = append(got, r.Time); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 27 {
		t.Fatalf("%d records since %v, want 27 (25 daily, the long one that started after, the last)", len(got), from)
	}
	for _, at := range got {
		if at.Before(from) {
			t.Fatalf("a record from %v, before %v", at, from)
		}
	}
}

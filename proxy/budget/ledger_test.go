package budget

import (
	"encoding/json"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// msg is a finished, priced Messages request.
func msg(at time.Time, usd float64) storage.Record {
	return storage.Record{Time: at, Method: "POST", Path: "/v1/messages", Status: 200, Total: time.Second,
		CostUSD: usd, PriceKnown: true}
}

// TestLedgerLocalPeriods: days and months are the user's, not UTC's, in a
// zone half an hour off UTC's hours (so hour rollups could not add up to
// its days either), across a month end and a year end.
func TestLedgerLocalPeriods(t *testing.T) {
	for _, zone := range []string{"Asia/Kolkata", "America/Los_Angeles"} {
		t.Run(zone, func(t *testing.T) {
			loc := mustZone(t, zone)
			l := NewLedger(loc)
			at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, loc) }
			entries := []struct {
				at  time.Time
				usd float64
			}{
				{at(2026, 11, 30, 23, 50), 1},   // last minutes of November
				{at(2026, 12, 1, 0, 10), 2},     // first of December (the same UTC day in Kolkata)
				{at(2026, 12, 31, 23, 59), 4},   // last of the year
				{at(2027, 1, 1, 0, 0), 8},       // first of the next
				{at(2026, 12, 15, 12, 0), 0.25}, // mid-month
			}
			now := at(2027, 1, 1, 0, 5)
			for _, e := range entries {
				rec := msg(e.at, e.usd)
				l.Add(EntryOf(&rec, ""), now)
			}
			for _, c := range []struct {
				name string
				n    Name
				now  time.Time
				want float64
			}{
				{"November's last day", Daily, at(2026, 11, 30, 23, 59), 1},
				{"December's first day", Daily, at(2026, 12, 1, 23, 59), 2},
				{"November", Monthly, at(2026, 11, 30, 23, 59), 1},
				{"December", Monthly, at(2026, 12, 31, 23, 59), 2 + 4 + 0.25},
				{"New Year's Day", Daily, at(2027, 1, 1, 0, 1), 8},
				{"January", Monthly, at(2027, 1, 1, 0, 1), 8},
				{"requests on December 1", RequestsDaily, at(2026, 12, 1, 12, 0), 1},
				{"a day with nothing", Daily, at(2026, 12, 2, 12, 0), 0},
			} {
				if got := l.Spent(c.n, Billed, "", c.now); !near(got, c.want) {
					t.Errorf("%s: %s spent %v, want %v", c.name, c.n, got, c.want)
				}
			}
		})
	}
}

func TestLedgerPeriodsReset(t *testing.T) {
	loc := mustZone(t, "Asia/Shanghai")
	_, end := period(Daily, time.Date(2026, 12, 31, 23, 0, 0, 0, loc), loc, "")
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, loc); !end.Equal(want) {
		t.Errorf("daily resets %v, want %v", end, want)
	}
	_, end = period(Monthly, time.Date(2026, 12, 31, 23, 0, 0, 0, loc), loc, "")
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, loc); !end.Equal(want) {
		t.Errorf("monthly resets %v, want %v", end, want)
	}
	_, end = period(Monthly, time.Date(2027, 1, 31, 23, 0, 0, 0, loc), loc, "")
	if want := time.Date(2027, 2, 1, 0, 0, 0, 0, loc); !end.Equal(want) {
		t.Errorf("January resets %v, want %v", end, want)
	}
}

func TestLedgerRateAndSessions(t *testing.T) {
	l := NewLedger(time.UTC)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	add := func(end time.Time, usd float64, session string) {
		rec := msg(end.Add(-time.Second), usd)
		l.Add(EntryOf(&rec, session), now)
	}
	add(now.Add(-6*time.Minute), 100, "a") // outside the window
	add(now.Add(-4*time.Minute), 2, "a")
	add(now.Add(-time.Minute), 3, "b")
	if got := l.Spent(Rate, Billed, "", now); !near(got, 1) { // (2+3)/5 min
		t.Errorf("rate %v $/min, want 1", got)
	}
	if got := l.Spent(Rate, Billed, "", now.Add(3*time.Minute)); !near(got, 0.6) { // only the 3 remains
		t.Errorf("rate later %v $/min, want 0.6", got)
	}
	if got := l.Spent(Session, Billed, "a", now); !near(got, 102) {
		t.Errorf("session a %v, want 102", got)
	}
	if got := l.Spent(Session, Billed, "c", now); got != 0 {
		t.Errorf("unknown session %v", got)
	}
}

// TestEntryOf: what counts against the budgets.
func TestEntryOf(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	hit := msg(at, 0.5)
	hit.CacheHit = true
	unknown := msg(at, 0)
	unknown.PriceKnown = false
	refused := msg(at, 0)
	refused.Status, refused.ErrorClass = 400, storage.ClassFerry
	count := storage.Record{Time: at, Method: "POST", Path: "/v1/messages/count_tokens", Status: 200, PriceKnown: true}
	batchResults := storage.Record{Time: at, Method: "GET", Path: "/v1/messages/batches/b1/results", Status: 200, PriceKnown: true, CostUSD: 3}
	for _, c := range []struct {
		name     string
		rec      storage.Record
		usd      float64
		requests int64
	}{
		{"a priced message", msg(at, 0.5), 0.5, 1},
		{"a cache hit is free", hit, 0, 0},
		{"an unknown price adds nothing", unknown, 0, 1},
		{"Ferry's refusal never reached Anthropic", refused, 0, 0},
		{"count_tokens is free and no request", count, 0, 0},
		{"batch results cost, but are no new request", batchResults, 3, 0},
	} {
		e := EntryOf(&c.rec, "")
		if !near(e.Billed, c.usd) || e.Requests != c.requests {
			t.Errorf("%s: %+v, want $%v and %d requests", c.name, e, c.usd, c.requests)
		}
	}
}

// memSettings is an in-memory Settings that stores JSON, like storage.DB.
type memSettings struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSettings) GetSetting(key string, into any) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(b, into)
}

func (s *memSettings) PutSetting(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[key] = b
	return nil
}

// TestSubscriptionBasis: a subscription request is billed $0 and counts
// its API price on the api_equivalent basis only.
func TestSubscriptionBasis(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := NewLedger(time.UTC)
	sub := msg(now, 0)
	sub.APIEquivUSD = 3
	key := msg(now, 2)
	l.Add(EntryOf(&sub, ""), now)
	l.Add(EntryOf(&key, ""), now)
	if b, e := l.Spent(Daily, Billed, "", now), l.Spent(Daily, APIEquivalent, "", now); !near(b, 2) || !near(e, 5) {
		t.Errorf("billed %v api_equivalent %v, want 2 and 5", b, e)
	}
}

func TestMaxBudgetsIsEveryName(t *testing.T) {
	if len(Names) != maxBudgets {
		t.Fatalf("maxBudgets %d, %d names", maxBudgets, len(Names))
	}
}

package budget

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// Spend is what was spent in one period.
type Spend struct {
	Billed   float64 `json:"billed_usd"`
	Equiv    float64 `json:"api_equivalent_usd"`
	Requests int64   `json:"requests"`
}

func (s *Spend) add(e Entry) {
	s.Billed += e.Billed
	s.Equiv += e.Equiv
	s.Requests += e.Requests
}

// usd is the spend on basis b.
func (s Spend) usd(b Basis) float64 {
	if b == APIEquivalent {
		return s.Equiv
	}
	return s.Billed
}

// Entry is one finished request as the budgets count it.
type Entry struct {
	At       time.Time // when the request started (days and months, as the rollups date it)
	End      time.Time // when it ended (the rate: a cost lands when it ends)
	Session  string
	Billed   float64
	Equiv    float64
	Requests int64 // 1 for a request that counts against requests_daily
}

// Counted reports whether a request to this method and path counts
// against the budgets, and is refused by a hard one: new Messages, chat
// completions and batch creations. count_tokens and models are free, and
// Claude Code needs them to start.
func Counted(method, path string) bool {
	if method != "POST" {
		return false
	}
	path = strings.TrimSuffix(path, "/")
	return path == "/v1/messages" || path == "/v1/chat/completions" || path == "/v1/messages/batches"
}

// EntryOf turns a finished request's record into what the budgets count.
// A cache hit costs nothing and counts no request; a request Ferry itself
// refused (a budget, a rate limit, a guard) never reached Anthropic.
func EntryOf(rec *storage.Record, session string) Entry {
	e := Entry{At: rec.Time, End: rec.Time.Add(rec.Total), Session: session}
	if rec.CacheHit {
		return e
	}
	e.Billed, e.Equiv = costs(rec)
	if Counted(rec.Method, rec.Path) && rec.ErrorClass != storage.ClassFerry && rec.ErrorClass != storage.ClassClient4xx {
		e.Requests = 1
	}
	return e
}

// costs returns a record's billed cost and what it would cost with an API
// key: a subscription request is billed $0 and keeps that in APIEquivUSD;
// a key request's equivalent is its cost (older subscription records,
// from before billed $0, count their cost on both bases). A price the
// meter did not know counts as nothing: it is shown as unknown elsewhere.
func costs(rec *storage.Record) (billed, equiv float64) {
	if !rec.PriceKnown {
		return 0, 0
	}
	return rec.CostUSD, rec.CostUSD + rec.APIEquivUSD
}

// Ledger keeps the running sums the budgets are checked against. It is safe
// for concurrent use.
type Ledger struct {
	mu       sync.Mutex
	loc      *time.Location
	days     map[string]*Spend // local date → spend
	months   map[string]*Spend // local "YYYY-MM" → spend
	sessions map[string]*sessionSpend
	slots    [rateSlots]rateSlot
	// cur caches the current local day and month and their bounds: every
	// request asks for them, and formatting a date each time showed in
	// the guard's benchmark.
	cur struct {
		dayStart, dayEnd, monthStart, monthEnd time.Time
		day, month                             string
	}
}

// keys returns the local day ("2006-01-02") and month ("2006-01") of t.
// Call with mu held.
func (l *Ledger) keys(t time.Time) (day, month string) {
	c := &l.cur
	if !t.Before(c.dayStart) && t.Before(c.dayEnd) {
		return c.day, c.month
	}
	lt := t.In(l.loc)
	y, m, d := lt.Date()
	c.dayStart, c.dayEnd = time.Date(y, m, d, 0, 0, 0, 0, l.loc), time.Date(y, m, d+1, 0, 0, 0, 0, l.loc)
	c.monthStart, c.monthEnd = time.Date(y, m, 1, 0, 0, 0, 0, l.loc), time.Date(y, m+1, 1, 0, 0, 0, 0, l.loc)
	c.day, c.month = lt.Format(time.DateOnly), lt.Format("2006-01")
	return c.day, c.month
}

type sessionSpend struct {
	Spend
	seen time.Time
}

// The rate is kept in 10-second slots over the last 5 minutes.
const (
	rateSlot10s = 10
	rateSlots   = 30
	// RateWindow is the window the rate budget averages over.
	RateWindow = rateSlots * rateSlot10s * time.Second
)

type rateSlot struct {
	start         int64 // Unix seconds / 10
	billed, equiv float64
}

// Bounds on what a Ledger keeps.
const (
	keptDays     = 40
	keptMonths   = 13
	maxSessions  = 4096
	sessionIdle  = 7 * 24 * time.Hour // a session unseen this long is forgotten
	maxSessionID = 128
)

// NewLedger returns an empty ledger that dates days and months in loc.
func NewLedger(loc *time.Location) *Ledger {
	if loc == nil {
		loc = time.Local
	}
	return &Ledger{loc: loc, days: map[string]*Spend{}, months: map[string]*Spend{}, sessions: map[string]*sessionSpend{}}
}

// Location is the zone the ledger's days and months are in.
func (l *Ledger) Location() *time.Location {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.loc
}

// Records is where a ledger is seeded from (storage.DB implements it:
// it walks back from the newest record and stops before the month, so a
// long history costs the start nothing).
type Records interface {
	EachRecordSince(from time.Time, fn func(storage.Record) error) error
}

// SessionOf returns the Claude Code session of a stored record, "" when
// none. It is a parameter so that the ledger does not depend on where the
// record keeps it.
type SessionOf func(rec *storage.Record) string

// Seed adds every stored record of the current local month (and of the
// last rate window, when the month began within it) as of now.
func (l *Ledger) Seed(src Records, now time.Time, session SessionOf) error {
	loc := l.Location()
	t := now.In(loc)
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	if w := now.Add(-RateWindow); w.Before(from) {
		from = w
	}
	err := src.EachRecordSince(from, func(rec storage.Record) error {
		s := ""
		if session != nil {
			s = session(&rec)
		}
		l.Add(EntryOf(&rec, s), now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed budgets from the history: %w", err)
	}
	return nil
}

// Add counts one finished request. now dates the rate slot (an entry older
// than the rate window adds nothing to the rate).
func (l *Ledger) Add(e Entry, now time.Time) {
	if e.Billed == 0 && e.Equiv == 0 && e.Requests == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	day, month := l.keys(e.At)
	if l.days[day] == nil {
		l.days[day] = &Spend{}
		trim(l.days, keptDays)
	}
	l.days[day].add(e)
	if l.months[month] == nil {
		l.months[month] = &Spend{}
		trim(l.months, keptMonths)
	}
	l.months[month].add(e)
	if e.Session != "" {
		l.addSession(e, now)
	}
	end := e.End
	if end.IsZero() {
		end = e.At
	}
	if end.After(now.Add(-RateWindow)) && (e.Billed > 0 || e.Equiv > 0) {
		k := end.Unix() / rateSlot10s
		s := &l.slots[k%rateSlots]
		if s.start != k {
			*s = rateSlot{start: k}
		}
		s.billed += e.Billed
		s.equiv += e.Equiv
	}
}

func (l *Ledger) addSession(e Entry, now time.Time) {
	id := e.Session
	if len(id) > maxSessionID {
		id = id[:maxSessionID]
	}
	s := l.sessions[id]
	if s == nil {
		if len(l.sessions) >= maxSessions {
			l.evictSessions(now)
		}
		s = &sessionSpend{}
		l.sessions[id] = s
	}
	s.add(e)
	s.seen = now
}

// evictSessions forgets idle sessions, or the least recently seen one.
func (l *Ledger) evictSessions(now time.Time) {
	oldest := ""
	for id, s := range l.sessions {
		if now.Sub(s.seen) > sessionIdle {
			delete(l.sessions, id)
			continue
		}
		if oldest == "" || s.seen.Before(l.sessions[oldest].seen) {
			oldest = id
		}
	}
	if len(l.sessions) >= maxSessions {
		delete(l.sessions, oldest)
	}
}

// trim drops the oldest keys (dates sort as strings) beyond keep.
func trim(m map[string]*Spend, keep int) {
	for len(m) > keep {
		oldest := ""
		for k := range m {
			if oldest == "" || k < oldest {
				oldest = k
			}
		}
		delete(m, oldest)
	}
}

// Spent returns how much of budget n is spent as of now: USD on basis b
// (USD per minute for the rate), or requests for requests_daily. session
// is the session asked about for the session budget.
func (l *Ledger) Spent(n Name, b Basis, session string, now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.spentLocked(n, b, session, now)
}

// spentAll writes into out[i] what is spent of bs[i], under one hold of
// the lock (a request checks five budgets: one lock, not five, and no
// allocation). A session budget without a session is 0.
func (l *Ledger) spentAll(bs []Budget, session string, now time.Time, out []float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, b := range bs {
		out[i] = 0
		if b.Name != Session || session != "" {
			out[i] = l.spentLocked(b.Name, b.Basis, session, now)
		}
	}
}

// spentLocked is Spent with mu held.
func (l *Ledger) spentLocked(n Name, b Basis, session string, now time.Time) float64 {
	var p string
	switch n {
	case Daily, RequestsDaily:
		p, _ = l.keys(now)
	case Monthly:
		_, p = l.keys(now)
	case Session:
		p = session
	}
	switch n {
	case Daily:
		if s := l.days[p]; s != nil {
			return s.usd(b)
		}
	case RequestsDaily:
		if s := l.days[p]; s != nil {
			return float64(s.Requests)
		}
	case Monthly:
		if s := l.months[p]; s != nil {
			return s.usd(b)
		}
	case Session:
		if len(p) > maxSessionID {
			p = p[:maxSessionID]
		}
		if s := l.sessions[p]; s != nil {
			return s.usd(b)
		}
	case Rate:
		return l.rate(b, now)
	}
	return 0
}

// rate is the spend per minute over the window ending now. Call with mu
// held.
func (l *Ledger) rate(b Basis, now time.Time) float64 {
	first := now.Add(-RateWindow).Unix()/rateSlot10s + 1
	last := now.Unix() / rateSlot10s
	var sum float64
	for _, s := range l.slots {
		if s.start < first || s.start > last {
			continue
		}
		if b == APIEquivalent {
			sum += s.equiv
		} else {
			sum += s.billed
		}
	}
	return sum / RateWindow.Minutes()
}

// Day returns the spend of the local day containing t.
func (l *Ledger) Day(t time.Time) Spend {
	l.mu.Lock()
	defer l.mu.Unlock()
	day, _ := l.keys(t)
	if s := l.days[day]; s != nil {
		return *s
	}
	return Spend{}
}

package budget

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/storage"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// alertLog collects published events.
type alertLog struct {
	mu  sync.Mutex
	evs []events.Event
}

func (a *alertLog) publish(e events.Event) {
	a.mu.Lock()
	a.evs = append(a.evs, e)
	a.mu.Unlock()
}

func (a *alertLog) levels(kind events.Kind) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.evs {
		if e.Kind == kind {
			out = append(out, e.Attrs["budget"]+"@"+e.Attrs["level"])
		}
	}
	return out
}

// history is a real ferry.db that the test writes records to, as the
// recorder does for the proxy.
type history struct {
	t    *testing.T
	path string
	db   *storage.DB
}

func openHistory(t *testing.T, path string) *history {
	t.Helper()
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &history{t: t, path: path, db: db}
}

func (h *history) store(recs ...storage.Record) {
	h.t.Helper()
	r := storage.NewRecorder(h.db, storage.RecorderOptions{})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	for _, rec := range recs {
		r.Record(rec)
	}
	stop()
	if err := <-done; err != nil {
		h.t.Fatal(err)
	}
}

// storeB is store for a benchmark.
func (h *history) storeB(b *testing.B, recs ...storage.Record) {
	b.Helper()
	r := storage.NewRecorder(h.db, storage.RecorderOptions{QueueSize: len(recs) + 1})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	for _, rec := range recs {
		r.Record(rec)
	}
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

func (h *history) close() {
	if err := h.db.Close(); err != nil {
		h.t.Fatal(err)
	}
}

// TestAlertsOncePerCrossingAcrossRestart: 80 %, 95 % and 100 % alert once
// each per period, on a real bbolt file closed and opened again between
// them, and again in the next period.
func TestAlertsOncePerCrossingAcrossRestart(t *testing.T) {
	loc := mustZone(t, "Asia/Shanghai")
	path := filepath.Join(t.TempDir(), "ferry.db")
	clock := &fakeClock{now: time.Date(2026, 12, 2, 9, 0, 0, 0, loc)}
	alerts := &alertLog{}
	h := openHistory(t, path)
	open := func() *Guard {
		g, err := Open(Options{Settings: h.db, Records: h.db, Location: loc, Publish: alerts.publish, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	g := open()
	if err := g.Set(Budget{Name: Daily, Limit: 10, Mode: Soft}); err != nil {
		t.Fatal(err)
	}
	spend := func(usd float64) {
		clock.Set(clock.Now().Add(time.Minute))
		rec := msg(clock.Now().Add(-time.Second), usd)
		h.store(rec)        // the recorder keeps it …
		g.Observe(&rec, "") // … and the budget counts it
	}
	spend(7)
	spend(1.5) // 85 %
	spend(0.1)
	spend(1.0) // 96 %
	if got := alerts.levels(events.BudgetAlert); strings.Join(got, " ") != "daily@80 daily@95" {
		t.Fatalf("alerts %v, want daily@80 daily@95", got)
	}

	// Restart: the history and the alert state come back from the file.
	h.close()
	h = openHistory(t, path)
	g = open()
	if s := g.View("").Budgets[0]; !near(s.Spent, 9.6) {
		t.Fatalf("after a restart the day's spend is %v, want 9.6", s.Spent)
	}
	spend(0.1) // 97 %: no repeat of 95
	if got := alerts.levels(events.BudgetAlert); len(got) != 2 {
		t.Fatalf("a restart repeated an alert: %v", got)
	}
	spend(0.5) // 102 %
	if got := alerts.levels(events.BudgetAlert); strings.Join(got, " ") != "daily@80 daily@95 daily@100" {
		t.Fatalf("alerts %v, want … daily@100", got)
	}
	spend(1) // still over: nothing new
	// The next local day (Shanghai midnight is 16:00 UTC) starts afresh.
	clock.Set(time.Date(2026, 12, 3, 0, 1, 0, 0, loc))
	spend(9) // 90 % of the new day
	if got := alerts.levels(events.BudgetAlert); strings.Join(got, " ") != "daily@80 daily@95 daily@100 daily@80" {
		t.Fatalf("alerts %v, want a new daily@80 on the next day", got)
	}
	h.close()
}

func TestHardRefusal(t *testing.T) {
	loc := mustZone(t, "Europe/Berlin")
	clock := &fakeClock{now: time.Date(2026, 12, 2, 22, 0, 0, 0, loc)}
	settings := &memSettings{}
	alerts := &alertLog{}
	g, err := Open(Options{Settings: settings, Location: loc, Now: clock.Now, Publish: alerts.publish})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Budget{
		{Name: Daily, Limit: 5},
		{Name: Session, Limit: 2, Mode: Hard, Basis: APIEquivalent},
		{Name: Monthly, Limit: 1, Mode: Soft}, // spent, but soft
	} {
		if err := g.Set(b); err != nil {
			t.Fatal(err)
		}
	}
	if r := g.Check("POST", "/v1/messages", "s1"); r != nil {
		t.Fatalf("refused before anything was spent: %s", r.Message)
	}
	rec := msg(clock.Now(), 2.5)
	g.Observe(&rec, "s1")
	// Session s1 spent its $2; another session and session-less requests
	// go on (the monthly budget is spent too, but soft).
	r := g.Check("POST", "/v1/messages", "s1")
	if r == nil || r.Name != Session || !strings.Contains(r.Message, "$2.50 of $2.00") {
		t.Fatalf("session refusal %+v", r)
	}
	if r := g.Check("POST", "/v1/messages", "s2"); r != nil {
		t.Fatalf("another session refused: %s", r.Message)
	}
	rec = msg(clock.Now(), 3)
	g.Observe(&rec, "s2")
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/messages"}, {"POST", "/v1/chat/completions"}, {"POST", "/v1/messages/batches"},
	} {
		r := g.Check(c.method, c.path, "")
		if r == nil || r.Name != Daily {
			t.Fatalf("%s %s not refused by the daily budget: %+v", c.method, c.path, r)
		}
		for _, want := range []string{"daily budget is spent", "$5.50 of $5.00", "2026-12-03 00:00 CET", "ferry budget allow 1h"} {
			if !strings.Contains(r.Message, want) {
				t.Errorf("refusal %q lacks %q", r.Message, want)
			}
		}
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/messages/count_tokens"}, {"GET", "/v1/models"}, {"GET", "/v1/messages/batches/b1/results"},
		{"POST", "/v1/messages/batches/b1/cancel"}, {"POST", "/v1/files"},
	} {
		if r := g.Check(c.method, c.path, ""); r != nil {
			t.Errorf("%s %s refused: %s", c.method, c.path, r.Message)
		}
	}

	// One more hour, recorded; then the cap is back.
	until, err := g.Allow(time.Hour, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if r := g.Check("POST", "/v1/messages", ""); r != nil {
		t.Fatalf("refused during the allowance: %s", r.Message)
	}
	g2, err := Open(Options{Settings: settings, Location: loc, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if v := g2.View(""); !v.AllowUntil.Equal(until) || len(g2.Allowances()) != 1 || g2.Allowances()[0].By != "cli" {
		t.Errorf("allowance not kept: %+v %+v", v, g2.Allowances())
	}
	clock.Set(until.Add(time.Second))
	if r := g.Check("POST", "/v1/messages", ""); r == nil {
		t.Fatal("not refused after the allowance ended")
	}
	// Midnight in Berlin: a new day, the daily cap is lifted.
	clock.Set(time.Date(2026, 12, 3, 0, 0, 1, 0, loc))
	if r := g.Check("POST", "/v1/messages", ""); r != nil {
		t.Fatalf("refused on the next day: %s", r.Message)
	}
	if got := alerts.levels(events.BudgetAllowed); len(got) != 1 {
		t.Errorf("allowance events %v", got)
	}
}

func TestBudgetSettings(t *testing.T) {
	g, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Budget{
		{Name: "weekly", Limit: 1},
		{Name: Daily, Limit: 0},
		{Name: Daily, Limit: -1},
		{Name: Daily, Limit: 1, Mode: "loud"},
		{Name: Daily, Limit: 1, Basis: "vibes"},
		{Name: RequestsDaily, Limit: 1.5},
	} {
		if err := g.Set(b); err == nil {
			t.Errorf("Set(%+v) accepted", b)
		}
	}
	if err := g.Set(Budget{Name: RequestsDaily, Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if bs := g.Budgets(); len(bs) != 1 || bs[0].Mode != Hard || bs[0].Basis != Billed {
		t.Errorf("defaults: %+v", bs)
	}
	if err := g.Clear(Daily); err == nil {
		t.Error("clearing an unset budget")
	}
	if err := g.Clear(RequestsDaily); err != nil || len(g.Budgets()) != 0 {
		t.Errorf("clear: %v %+v", err, g.Budgets())
	}
	if _, err := g.Allow(48*time.Hour, "cli"); err == nil {
		t.Error("allowed two days")
	}
}

// TestSessionSeededFromHistory: a restart in the middle of a Claude Code
// session still knows what the session spent.
func TestSessionSeededFromHistory(t *testing.T) {
	h := openHistory(t, filepath.Join(t.TempDir(), "ferry.db"))
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	a, b := msg(now.Add(-time.Hour), 1.5), msg(now.Add(-time.Minute), 0.25)
	a.Session, b.Session = "sess-1", "sess-1"
	h.store(a, b, msg(now, 9))
	g, err := Open(Options{Settings: h.db, Records: h.db, Location: time.UTC, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Set(Budget{Name: Session, Limit: 1.7}); err != nil {
		t.Fatal(err)
	}
	if r := g.Check("POST", "/v1/messages", "sess-1"); r == nil || !strings.Contains(r.Message, "$1.75 of $1.70") {
		t.Fatalf("session sess-1 after a restart: %+v", r)
	}
	if r := g.Check("POST", "/v1/messages", "sess-2"); r != nil {
		t.Fatalf("sess-2: %s", r.Message)
	}
	h.close()
}

func TestDisplayCurrency(t *testing.T) {
	g, _ := Open(Options{Location: time.UTC})
	if err := g.Set(Budget{Name: Daily, Limit: 20}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteText(&out, g.View(""), time.Now()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "CNY") {
		t.Fatalf("a display currency without one set:\n%s", out.String())
	}
	g.SetDisplay(Display{Currency: "CNY", PerUSD: 7.2})
	out.Reset()
	if err := WriteText(&out, g.View(""), time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "$20.00 (CNY 144.00)") {
		t.Fatalf("budget list with CNY at 7.2:\n%s", out.String())
	}
	if (Display{Currency: "USD", PerUSD: 1}).On() || (Display{Currency: "CNY"}).On() {
		t.Error("USD, or no rate, is no display currency")
	}
}

func TestRequestsBudget(t *testing.T) {
	loc := mustZone(t, "Asia/Shanghai")
	now := time.Date(2026, 12, 2, 23, 59, 0, 0, loc)
	g, _ := Open(Options{Location: loc, Now: func() time.Time { return now }})
	if err := g.Set(Budget{Name: RequestsDaily, Limit: 3}); err != nil {
		t.Fatal(err)
	}
	count := msg(now, 0)
	count.Path = "/v1/messages/count_tokens"
	for range 5 {
		g.Observe(&count, "") // free: not counted
	}
	for i := range 3 {
		if r := g.Check("POST", "/v1/messages", ""); r != nil {
			t.Fatalf("request %d refused: %s", i+1, r.Message)
		}
		rec := msg(now, 0.01)
		g.Observe(&rec, "")
	}
	r := g.Check("POST", "/v1/messages", "")
	if r == nil || !strings.Contains(r.Message, "daily request budget is spent (3 requests of 3 requests, 2026-12-02)") ||
		!strings.Contains(r.Message, "resets at 2026-12-03 00:00 CST") {
		t.Fatalf("4th request: %+v", r)
	}
	now = now.Add(2 * time.Minute) // past Shanghai midnight
	if r := g.Check("POST", "/v1/messages", ""); r != nil {
		t.Fatalf("refused on the next day: %s", r.Message)
	}
}

package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The dashboard shows each budget and quota window against its limit,
// the brake's stopped session, and each request's tries on the road.
func TestDashboardShowsGuardAndAttempts(t *testing.T) {
	core := newFakeCore()
	core.records[0].Attempts = []storage.Attempt{
		{Route: "Direct", Class: "reset", Duration: 120 * time.Millisecond},
		{Route: "Office SOCKS", Class: "status", Status: 529, Duration: 800 * time.Millisecond},
		{Route: "Office SOCKS", Duration: 4 * time.Second},
	}
	core.records[0].QueueWait = 1500 * time.Millisecond
	core.records[1].Attempts = []storage.Attempt{{Route: "Office SOCKS", Class: "status", Status: 529, Duration: 900 * time.Millisecond}}
	d, _ := startDesktop(t, core, Options{})
	content := d.dashWin.Content()
	for _, want := range []string{
		"Budgets and quota", "Spend per day", "$8.50 of $10.00 (85%) · hard cap", "Spend per month",
		"5 hours quota", "42% used · resets 16:20, in 1 h 50 min", "7 days quota",
		"Queue: 3 of 4 upstream, 2 waiting", "Session sess-7f3a, stopped 14:25",
	} {
		if !hasText(content, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if len(find[*widget.ProgressBar](d.dash.guard.root)) != 4 {
		t.Error("not one bar per budget and quota window")
	}

	if h := tableHeaders(); h[len(h)-1] != "Tries" {
		t.Errorf("headers = %q", h)
	}
	if got := [...]string{AttemptsCell(core.records[0]), AttemptsCell(core.records[1]), AttemptsCell(core.records[2])}; got != [...]string{"3", "1", "–"} {
		t.Errorf("tries = %q", got)
	}
	d.dash.table.Select(widget.TableCellID{Row: 0, Col: 1})
	o := d.dashWin.Canvas().Overlays().Top()
	for _, want := range []string{"3 (retried 2×)", "Direct · connection reset · 120 ms", "Office SOCKS · retryable status 529 · 800 ms",
		"Office SOCKS · answered · 4000 ms", "1500 ms"} {
		if o == nil || !hasText(o, want) {
			t.Errorf("details lack %q", want)
		}
	}
}

func TestGuardGlanceData(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.Local)
	g := newFakeGuard(now)
	g.budgets[0].Refusing = true
	m := BudgetMeters(coreapi.BudgetsView{Budgets: g.budgets}, now)
	if len(m) != 2 || m[0].Title != "Spend per day" || m[0].Fraction != 0.85 || !m[0].Danger || m[1].Danger {
		t.Errorf("budget meters = %+v", m)
	}
	q := g.quota
	q.Accounts = append(q.Accounts, coreapi.QuotaAccount{Account: "org-2", Windows: []coreapi.QuotaWindow{{Name: "5h", Utilization: 1, Status: "rejected"}}})
	qm := QuotaMeters(q, now)
	var titles []string
	for _, m := range qm {
		titles = append(titles, m.Title)
	}
	if !slices.Equal(titles, []string{"5 hours quota", "7 days quota", "org-2 · 5 hours quota"}) || !qm[2].Danger || qm[0].Danger {
		t.Errorf("quota meters = %q", titles)
	}
	if meterValue(1.3) != 1 || meterValue(-0.1) != 0 {
		t.Error("bar values not clamped")
	}

	// Nothing worth a glance: no notes.
	if n := GuardNotes(coreapi.LimitsView{Concurrency: 4}, coreapi.BrakeView{Enabled: true}, now); len(n) != 0 {
		t.Errorf("notes = %q", n)
	}
	released := g.brake
	released.Stopped[0].ReleasedUntil = now.Add(time.Hour)
	n := GuardNotes(g.limits, released, now)
	if len(n) != 2 || !strings.HasPrefix(n[0], "Queue:") || !strings.Contains(n[1], "7 requests refused") {
		t.Errorf("notes = %q", n)
	}

	for class, want := range map[string]string{
		"": "answered", "connect": "could not connect", "proxy_handshake": "proxy handshake failed", "tls": "TLS handshake failed",
		"reset": "connection reset", "first_byte": "no answer in time", "odd": "odd",
	} {
		if got := AttemptText(storage.Attempt{Route: "r", Class: class, Duration: time.Second}); got != "r · "+want+" · 1000 ms" {
			t.Errorf("AttemptText(%q) = %q", class, got)
		}
	}
	if d := AttemptDetails(storage.Record{Attempts: []storage.Attempt{{Route: "r"}}}); len(d) != 1 || d[0][0] != "Attempt 1" {
		t.Errorf("one attempt: %q", d)
	}
}

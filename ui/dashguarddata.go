package ui

import (
	"math"
	"strconv"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The spend guard's and the road's figures on the dashboard: pure
// functions of what the core returned, tested without widgets.

// Meter is one figure drawn as a bar with a line under it.
type Meter struct {
	Title    string
	Fraction float64 // 0..1 fills the bar; more is drawn full
	Line     string
	// Danger marks a budget refusing requests or a quota window spent.
	Danger bool
}

// BudgetMeters are the budgets, each against its limit.
func BudgetMeters(v coreapi.BudgetsView, now time.Time) []Meter {
	var out []Meter
	for _, b := range v.Budgets {
		out = append(out, Meter{Title: BudgetTitle(b.Name), Fraction: b.Fraction, Line: BudgetLine(b, v, now), Danger: b.Refusing})
	}
	return out
}

// QuotaMeters are the subscription quota's windows, most recent account
// first; an account other than the first is named in the title.
func QuotaMeters(q coreapi.QuotaView, now time.Time) []Meter {
	var out []Meter
	for i, a := range q.Accounts {
		for _, w := range a.Windows {
			title := lang.L("{{.Window}} quota", map[string]any{"Window": QuotaWindowName(w.Name)})
			if i > 0 {
				title = a.Account + " · " + title
			}
			out = append(out, Meter{Title: title, Fraction: w.Utilization, Line: QuotaWindowLine(w, now), Danger: w.Status == "rejected"})
		}
	}
	return out
}

// GuardNotes are the guard's other figures worth a glance: the queue when
// requests wait, what the limits refused, the sessions the brake holds.
func GuardNotes(l coreapi.LimitsView, b coreapi.BrakeView, now time.Time) []string {
	var out []string
	if l.Concurrency > 0 && (l.InUse > 0 || l.Waiting > 0) {
		out = append(out, lang.L("Queue: {{.InUse}} of {{.Limit}} upstream, {{.Waiting}} waiting (at most {{.Wait}})", map[string]any{
			"InUse": l.InUse, "Limit": l.Concurrency, "Waiting": l.Waiting, "Wait": Countdown(l.QueueWait)}))
	}
	var refused uint64
	for _, n := range l.Refused {
		refused += n
	}
	if refused > 0 {
		out = append(out, lang.L("{{.N}} requests refused by a limit since Ferry started", map[string]any{"N": refused}))
	}
	for _, s := range b.Stopped {
		if !s.ReleasedUntil.After(now) {
			out = append(out, BrakeStopLine(s, now))
		}
	}
	return out
}

// AttemptsCell is the requests table's "Tries" cell: how many times the
// request went upstream ("–" when it never did: a refusal, a cache hit).
func AttemptsCell(r storage.Record) string {
	if len(r.Attempts) == 0 {
		return "–"
	}
	return strconv.Itoa(len(r.Attempts))
}

// AttemptText is one attempt for the request details: "Office SOCKS ·
// connection reset · 120 ms".
func AttemptText(a storage.Attempt) string {
	var what string
	switch a.Class {
	case "":
		what = lang.L("answered")
	case "connect":
		what = lang.L("could not connect")
	case "proxy_handshake":
		what = lang.L("proxy handshake failed")
	case "tls":
		what = lang.L("TLS handshake failed")
	case "reset":
		what = lang.L("connection reset")
	case "first_byte":
		what = lang.L("no answer in time")
	case "status":
		what = lang.L("retryable status {{.Status}}", map[string]any{"Status": a.Status})
	default:
		what = a.Class
	}
	return a.Route + " · " + what + " · " + FormatMS(a.Duration)
}

// AttemptDetails are the request details' rows for its attempts and its
// wait in the queue.
func AttemptDetails(r storage.Record) [][2]string {
	var out [][2]string
	if n := len(r.Attempts); n > 1 {
		out = append(out, [2]string{lang.L("Attempts"), lang.L("{{.N}} (retried {{.Retries}}×)", map[string]any{"N": n, "Retries": n - 1})})
	}
	for i, a := range r.Attempts {
		out = append(out, [2]string{lang.L("Attempt {{.N}}", map[string]any{"N": i + 1}), AttemptText(a)})
	}
	if r.QueueWait > 0 {
		out = append(out, [2]string{lang.L("Queue wait"), FormatMS(r.QueueWait)})
	}
	return out
}

// meterValue is a Meter's bar value: spent and beyond draw full.
func meterValue(f float64) float64 { return math.Max(0, math.Min(f, 1)) }

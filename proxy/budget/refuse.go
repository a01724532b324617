package budget

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Refusal says which hard budget refuses a request, and why.
type Refusal struct {
	Status
	Message string
}

// Check returns the refusal of a hard budget that is spent, or nil when
// the request may go. Only requests that cost money are ever refused (see
// Counted); an allowance lifts every hard cap until it ends.
func (g *Guard) Check(method, path, session string) *Refusal {
	bs := *g.budgets.Load()
	if len(bs) == 0 || !Counted(method, path) {
		return nil
	}
	if !slices.ContainsFunc(bs, func(b Budget) bool { return b.Mode == Hard }) {
		return nil
	}
	now := g.o.Now()
	if g.allowedUntil().After(now) {
		return nil
	}
	var spent [maxBudgets]float64
	g.ledger.spentAll(bs, session, now, spent[:len(bs)])
	for i, b := range bs {
		if b.Mode != Hard || (b.Name == Session && session == "") || spent[i] < b.Limit {
			continue
		}
		st := g.status(b, session, now)
		return &Refusal{Status: st, Message: refusalMessage(st, g.ledger.Location())}
	}
	return nil
}

// refusalMessage says which budget, how much is spent of what, when it
// resets and how to go on, the way Anthropic words a spent workspace so
// that clients stop rather than retry.
func refusalMessage(st Status, loc *time.Location) string {
	var b strings.Builder
	switch st.Name {
	case Session:
		fmt.Fprintf(&b, "Ferry refused this request: the session budget of this Claude Code session is spent (%s of %s, %s).",
			st.Name.Format(st.Spent), st.Name.Format(st.Limit), basisWords(st.Basis))
		b.WriteString(" It does not reset; start a new session, or raise it with `ferry budget set session AMOUNT`.")
	case Rate:
		fmt.Fprintf(&b, "Ferry refused this request: spend is running at %s over the last 5 minutes, over the rate budget of %s (%s).",
			st.Name.Format(st.Spent), st.Name.Format(st.Limit), basisWords(st.Basis))
		b.WriteString(" It eases as the last 5 minutes' spend falls below the limit.")
	case RequestsDaily:
		fmt.Fprintf(&b, "Ferry refused this request: the daily request budget is spent (%s of %s, %s).",
			st.Name.Format(st.Spent), st.Name.Format(st.Limit), st.Period)
		fmt.Fprintf(&b, " It resets at %s.", st.Resets.In(loc).Format("2006-01-02 15:04 MST"))
	default:
		fmt.Fprintf(&b, "Ferry refused this request: the %s budget is spent (%s of %s, %s, %s).",
			st.Name, st.Name.Format(st.Spent), st.Name.Format(st.Limit), basisWords(st.Basis), st.Period)
		fmt.Fprintf(&b, " It resets at %s.", st.Resets.In(loc).Format("2006-01-02 15:04 MST"))
	}
	b.WriteString(" To go on now: `ferry budget allow 1h` (or \"Allow one more hour\" in the tray), or raise the budget.")
	return b.String()
}

func basisWords(b Basis) string {
	if b == APIEquivalent {
		return "at API prices"
	}
	return "billed"
}

// allowState is the allowance in force and the record of past ones.
type allowState struct {
	Until   time.Time   `json:"until,omitzero"`
	History []Allowance `json:"history,omitempty"`
}

// Allowance is one "allow one more hour", as recorded.
type Allowance struct {
	At    time.Time `json:"at"`
	Until time.Time `json:"until"`
	By    string    `json:"by"` // "cli", "tray", "notification", "api"
}

// maxAllowances bounds the allowances recorded.
const maxAllowances = 100

// MaxAllow is the longest allowance one call grants.
const MaxAllow = 24 * time.Hour

// Allow lifts every hard cap for d from now (one more hour, usually),
// records it and announces it. by says where it came from.
func (g *Guard) Allow(d time.Duration, by string) (time.Time, error) {
	if d <= 0 || d > MaxAllow {
		return time.Time{}, fmt.Errorf("allow %v: between a second and %v: %w", d, MaxAllow, ErrBadBudget)
	}
	by = strings.ToValidUTF8(by, "")
	if len(by) > 32 {
		by = by[:32]
	}
	now := g.o.Now()
	until := now.Add(d)
	g.mu.Lock()
	st := allowState{Until: until, History: append(slices.Clone(g.allow.History), Allowance{At: now, Until: until, By: by})}
	if n := len(st.History); n > maxAllowances {
		st.History = st.History[n-maxAllowances:]
	}
	if g.o.Settings != nil {
		if err := g.o.Settings.PutSetting(AllowKey, st); err != nil {
			g.mu.Unlock()
			return time.Time{}, fmt.Errorf("save budget allowance: %w", err)
		}
	}
	g.allow = st
	g.allowUntil.Store(until.UnixNano())
	g.mu.Unlock()
	detail := fmt.Sprintf("hard budgets lifted until %s (%s)", until.In(g.ledger.Location()).Format("15:04 MST"), by)
	g.o.Logger.Warn("budget allowance: "+detail, "until", until, "by", by)
	if g.o.Publish != nil {
		g.o.Publish(events.Event{Kind: events.BudgetAllowed, Time: now, Detail: detail,
			Attrs: map[string]string{"until": until.Format(time.RFC3339), "by": by}})
	}
	return until, nil
}

// Allowances returns the recorded allowances, oldest first.
func (g *Guard) Allowances() []Allowance {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.allow.History)
}

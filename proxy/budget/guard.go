package budget

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/storage"
)

// Settings is where budgets, alert state and allowances persist
// (storage.DB implements it).
type Settings interface {
	GetSetting(key string, into any) (found bool, err error)
	PutSetting(key string, v any) error
}

// Settings keys.
const (
	BudgetsKey = "budgets"       // []Budget
	AlertsKey  = "budget_alerts" // map[string]alertState
	AllowKey   = "budget_allow"  // allowState
)

// Options configure Open.
type Options struct {
	// Settings persists the budgets, alert state and allowances. nil keeps
	// them in memory only.
	Settings Settings
	// Records seeds the ledger with the current month. nil starts empty.
	Records Records
	// Session reads a stored record's Claude Code session, for seeding the
	// session budget. nil means storage.Record.Session.
	Session SessionOf
	// Location dates days and months (budget.timezone). nil means the
	// machine's zone.
	Location *time.Location
	// Publish receives budget events (alerts, allowances). nil drops them.
	Publish func(events.Event)
	// Logger logs alerts and allowances (what headless mode shows). nil
	// discards.
	Logger *slog.Logger
	// Now is the clock. nil means time.Now.
	Now func() time.Time
}

// Guard is the budgets: their settings, the ledger they are checked
// against, the alerts and the allowances. It is safe for concurrent use.
type Guard struct {
	o      Options
	ledger *Ledger

	// budgets is read on every request without a lock.
	budgets atomic.Pointer[[]Budget]
	// allowUntil is the Unix nanosecond until which hard caps are lifted.
	allowUntil atomic.Int64
	// display is the display currency (View carries it).
	display atomic.Pointer[Display]
	// refused counts the requests each budget refused (by its index in
	// Names), since start.
	refused [maxBudgets]atomic.Uint64
	// rateAlerted is set while the rate budget has an alert raised: its
	// alerts re-arm when it falls, so it must be checked every time.
	rateAlerted atomic.Bool

	mu     sync.Mutex // guards alerts, allow and the settings writes
	alerts map[string]alertState
	allow  allowState
}

// Open loads the budgets, alert state and allowance from o.Settings and
// seeds the ledger from o.Records. A damaged setting is reported and
// replaced by its default, so that Ferry always starts.
func Open(o Options) (*Guard, error) {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Session == nil {
		o.Session = func(rec *storage.Record) string { return rec.Session }
	}
	g := &Guard{o: o, ledger: NewLedger(o.Location), alerts: map[string]alertState{}}
	var errs []error
	var bs []Budget
	if o.Settings != nil {
		if _, err := o.Settings.GetSetting(BudgetsKey, &bs); err != nil {
			errs = append(errs, fmt.Errorf("load budgets (none set): %w", err))
			bs = nil
		}
		if _, err := o.Settings.GetSetting(AlertsKey, &g.alerts); err != nil || g.alerts == nil {
			if err != nil {
				errs = append(errs, fmt.Errorf("load budget alert state (alerts may repeat): %w", err))
			}
			g.alerts = map[string]alertState{}
		}
		if _, err := o.Settings.GetSetting(AllowKey, &g.allow); err != nil {
			errs = append(errs, fmt.Errorf("load budget allowance: %w", err))
			g.allow = allowState{}
		}
	}
	valid := bs[:0]
	for _, b := range bs {
		if nb, err := b.Normalize(); err == nil {
			valid = append(valid, nb)
		} else {
			errs = append(errs, fmt.Errorf("load budgets (skipped): %w", err))
		}
	}
	slices.SortFunc(valid, func(a, b Budget) int { return slices.Index(Names, a.Name) - slices.Index(Names, b.Name) })
	g.budgets.Store(&valid)
	g.rateAlerted.Store(g.alerts[string(Rate)].Level > 0)
	g.allowUntil.Store(g.allow.Until.UnixNano())
	if o.Records != nil {
		if err := g.ledger.Seed(o.Records, o.Now(), o.Session); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return g, fmt.Errorf("budgets: %w", errors.Join(errs...))
	}
	return g, nil
}

// Refusals returns how many requests each budget refused since start.
func (g *Guard) Refusals() map[Name]uint64 {
	out := make(map[Name]uint64, len(Names))
	for i, n := range Names {
		out[n] = g.refused[i].Load()
	}
	return out
}

// SetDisplay sets the display currency (display.currency, display.usd_rate).
func (g *Guard) SetDisplay(d Display) { g.display.Store(&d) }

// Ledger returns the sums the budgets are checked against.
func (g *Guard) Ledger() *Ledger { return g.ledger }

// Budgets returns the budgets set, in Names order.
func (g *Guard) Budgets() []Budget { return slices.Clone(*g.budgets.Load()) }

// Set adds or replaces a budget and persists it.
func (g *Guard) Set(b Budget) error {
	b, err := b.Normalize()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	bs := slices.DeleteFunc(g.Budgets(), func(o Budget) bool { return o.Name == b.Name })
	bs = append(bs, b)
	return g.saveBudgets(bs)
}

// Clear removes a budget.
func (g *Guard) Clear(n Name) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	bs := g.Budgets()
	if !slices.ContainsFunc(bs, func(o Budget) bool { return o.Name == n }) {
		return fmt.Errorf("budget %s is not set: %w", n, ErrUnknownBudget)
	}
	return g.saveBudgets(slices.DeleteFunc(bs, func(o Budget) bool { return o.Name == n }))
}

// saveBudgets persists bs and makes them current, in Names order. Call
// with mu held.
func (g *Guard) saveBudgets(bs []Budget) error {
	slices.SortFunc(bs, func(a, b Budget) int { return slices.Index(Names, a.Name) - slices.Index(Names, b.Name) })
	if g.o.Settings != nil {
		if err := g.o.Settings.PutSetting(BudgetsKey, bs); err != nil {
			return fmt.Errorf("save budgets: %w", err)
		}
	}
	g.budgets.Store(&bs)
	return nil
}

// Status is one budget as shown: its setting and how much is spent.
type Status struct {
	Budget
	Spent    float64   `json:"spent"`
	Fraction float64   `json:"fraction"`         // spent / limit
	Period   string    `json:"period,omitempty"` // the local day or month
	Resets   time.Time `json:"resets,omitzero"`  // when the period ends
	// Refusing is true when a hard budget is spent and no allowance lifts
	// it: new requests are refused.
	Refusing bool `json:"refusing"`
}

// View is every budget's status, and the allowance in force.
type View struct {
	Budgets []Status `json:"budgets"`
	// Refused counts the requests each budget refused since Ferry started.
	Refused map[Name]uint64 `json:"refused"`
	// Display is the display currency for amounts shown to people.
	Display    Display   `json:"display"`
	Timezone   string    `json:"timezone"`
	AllowUntil time.Time `json:"allow_until,omitzero"`
	Today      Spend     `json:"today"`
}

// View returns the budgets as of now. The session budget is shown for
// session (pass "" when there is none to show).
func (g *Guard) View(session string) View {
	now := g.o.Now()
	v := View{Timezone: g.ledger.Location().String(), Today: g.ledger.Day(now), Refused: g.Refusals()}
	if d := g.display.Load(); d != nil {
		v.Display = *d
	}
	if u := g.allowedUntil(); u.After(now) {
		v.AllowUntil = u
	}
	for _, b := range g.Budgets() {
		v.Budgets = append(v.Budgets, g.status(b, session, now))
	}
	return v
}

func (g *Guard) status(b Budget, session string, now time.Time) Status {
	spent := g.ledger.Spent(b.Name, b.Basis, session, now)
	p, resets := period(b.Name, now, g.ledger.Location(), session)
	s := Status{Budget: b, Spent: spent, Fraction: spent / b.Limit, Period: p, Resets: resets}
	s.Refusing = b.Mode == Hard && spent >= b.Limit && !g.allowedUntil().After(now)
	return s
}

func (g *Guard) allowedUntil() time.Time {
	n := g.allowUntil.Load()
	if n <= 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Observe counts a finished request (its record as the meter left it) and
// raises the alerts it made cross a threshold.
func (g *Guard) Observe(rec *storage.Record, session string) {
	e := EntryOf(rec, session)
	if e.Billed == 0 && e.Equiv == 0 && e.Requests == 0 {
		return
	}
	now := g.o.Now()
	g.ledger.Add(e, now)
	g.checkAlerts(session, now)
}

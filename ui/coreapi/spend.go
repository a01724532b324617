package coreapi

import (
	"context"
	"time"
)

// SpendGuard is what the windows need of the spend guard (issue 12): the
// budgets, the rate limits and their queue, the subscription quota and the
// runaway brake. Core embeds it. Every method may do I/O and honours its
// context. The limits' and the brake's settings are knobs (limit.*,
// brake.*): they change through Knobs.
type SpendGuard interface {
	// Budgets returns every budget that is set, with what is spent in its
	// current period, and the allowance in force.
	Budgets(ctx context.Context) (BudgetsView, error)
	// SetBudget adds or replaces the budget named b.Name. The error says
	// what is wrong (an unknown name, a limit that is not positive, a
	// fractional number of requests); nothing is stored then.
	SetBudget(ctx context.Context, b Budget) error
	// ClearBudget removes the budget named name.
	ClearBudget(ctx context.Context, name string) error
	// AllowBudgets lifts every hard cap for d ("Allow one more hour");
	// the core records who asked.
	AllowBudgets(ctx context.Context, d time.Duration) error

	// Limits returns the rate limits in force and the concurrency
	// queue's occupancy.
	Limits(ctx context.Context) (LimitsView, error)

	// Quota returns the subscription quota last read from Anthropic's
	// answers, per account, most recent first.
	Quota(ctx context.Context) (QuotaView, error)

	// Brake returns the runaway brake's settings and the sessions it
	// stopped.
	Brake(ctx context.Context) (BrakeView, error)
	// ReleaseBrake lets the stopped session go on for one hour.
	ReleaseBrake(ctx context.Context, session string) error
}

// The budgets' names (proxy/budget.Names), in the order they are shown.
const (
	BudgetDaily         = "daily"          // USD per local day
	BudgetMonthly       = "monthly"        // USD per local month
	BudgetRequestsDaily = "requests_daily" // requests per local day
	BudgetSession       = "session"        // USD per Claude Code session
	BudgetRate          = "rate"           // USD per minute over the last 5 minutes
)

// BudgetNames lists the budgets in the order they are shown.
var BudgetNames = []string{BudgetDaily, BudgetMonthly, BudgetRequestsDaily, BudgetSession, BudgetRate}

// Budget modes and bases.
const (
	ModeSoft           = "soft" // alerts only
	ModeHard           = "hard" // alerts, and new requests refused
	BasisBilled        = "billed"
	BasisAPIEquivalent = "api_equivalent" // what a subscription request would cost with a key
)

// Budget is one budget's setting.
type Budget struct {
	Name string
	// Limit is US dollars, requests for BudgetRequestsDaily, or dollars
	// per minute for BudgetRate.
	Limit float64
	Mode  string // ModeSoft or ModeHard
	Basis string // BasisBilled or BasisAPIEquivalent
}

// BudgetStatus is one budget with what is spent of it.
type BudgetStatus struct {
	Budget
	Spent float64
	// Fraction is Spent / Limit (1 or more: spent).
	Fraction float64
	// Period is the local day or month counted ("2026-12-02"); "" for
	// the rate and the session budgets.
	Period string
	// Resets is when the period ends; zero when it has no fixed end.
	Resets time.Time
	// Refusing: a hard budget is spent and no allowance lifts it, so new
	// requests are refused.
	Refusing bool
	// Refused counts the requests it refused since Ferry started.
	Refused uint64
}

// BudgetsView is every budget set and the allowance in force.
type BudgetsView struct {
	Budgets []BudgetStatus
	// AllowUntil is when "Allow one more hour" ends; zero when none is in
	// force.
	AllowUntil time.Time
	// Timezone is the zone days and months are counted in.
	Timezone string
	// Currency and PerUSD are the display currency ("CNY", 7.2); an
	// empty Currency, "USD" or a zero rate shows dollars only.
	Currency string
	PerUSD   float64
}

// LimitsView is the rate limits in force and the queue. Zero turns a
// limit off.
type LimitsView struct {
	RPM            int
	ITPM, OTPM     int64
	Concurrency    int
	QueueWait      time.Duration
	FollowUpstream bool
	// InUse and Waiting are the concurrency queue now.
	InUse, Waiting int
	// Refused counts the requests each limit refused since Ferry started
	// (rpm, itpm, otpm, concurrency, upstream).
	Refused map[string]uint64
	// Waited counts the requests that waited for a slot, WaitedTotal
	// their total wait.
	Waited      uint64
	WaitedTotal time.Duration
}

// QuotaWindow is one window of a subscription's quota.
type QuotaWindow struct {
	Name        string  // "5h", "7d", "7d-sonnet", …
	Utilization float64 // 0..1 (1: spent)
	Reset       time.Time
	Status      string // allowed, allowed_warning, rejected
}

// QuotaAccount is one subscription account's latest quota.
type QuotaAccount struct {
	Account string
	Status  string
	// RepresentativeClaim names the window that limits the account now.
	RepresentativeClaim string
	OverageStatus       string
	Windows             []QuotaWindow
	Seen                time.Time
}

// Window returns the account's window with that name.
func (a QuotaAccount) Window(name string) (QuotaWindow, bool) {
	for _, w := range a.Windows {
		if w.Name == name {
			return w, true
		}
	}
	return QuotaWindow{}, false
}

// QuotaView is the subscription quota per account, most recent first;
// empty when no subscription answer was seen.
type QuotaView struct {
	Accounts []QuotaAccount
}

// BrakeStop is one session the runaway brake stopped.
type BrakeStop struct {
	Session string
	At      time.Time
	// Reason is "tool_loop" (the same tool call with the same result) or
	// "repeated_request" (one request again and again).
	Reason  string
	Tool    string
	Repeats int
	// ReleasedUntil is when a release ends; zero while stopped.
	ReleasedUntil time.Time
}

// BrakeView is the runaway brake's settings and the sessions it stopped.
type BrakeView struct {
	Enabled bool
	Repeats int
	Window  time.Duration
	Stopped []BrakeStop
	// Refused counts the requests it refused since Ferry started, by
	// reason.
	Refused map[string]uint64
}

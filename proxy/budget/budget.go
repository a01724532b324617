package budget

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Name names one of the five budgets.
type Name string

const (
	Daily         Name = "daily"          // USD per local day
	Monthly       Name = "monthly"        // USD per local month
	RequestsDaily Name = "requests_daily" // requests per local day
	Session       Name = "session"        // USD per Claude Code session
	Rate          Name = "rate"           // USD per minute over the last 5 minutes
)

// Names lists the budgets in the order they are shown.
var Names = []Name{Daily, Monthly, RequestsDaily, Session, Rate}

// maxBudgets is how many budgets can be set: one of each name.
const maxBudgets = 5

// Mode says what a budget does when spent.
type Mode string

const (
	Soft Mode = "soft" // alerts only
	Hard Mode = "hard" // alerts, and new requests refused
)

// Basis says which cost a budget counts.
type Basis string

const (
	// Billed is what the request cost: $0 for a subscription request.
	Billed Basis = "billed"
	// APIEquivalent is what it would have cost with an API key: what a
	// subscription user budgets.
	APIEquivalent Basis = "api_equivalent"
)

// Budget is one budget's setting.
type Budget struct {
	Name  Name    `json:"name"`
	Limit float64 `json:"limit"` // USD, or requests for requests_daily, or USD/min for rate
	Mode  Mode    `json:"mode"`
	Basis Basis   `json:"basis"`
}

// Errors of a budget setting, found with errors.Is.
var (
	ErrUnknownBudget = errors.New("unknown budget")
	ErrBadBudget     = errors.New("bad budget")
)

// ParseName reads a budget's name.
func ParseName(s string) (Name, error) {
	n := Name(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Names, n) {
		return "", fmt.Errorf("%q (one of daily, monthly, requests_daily, session, rate): %w", s, ErrUnknownBudget)
	}
	return n, nil
}

// Normalize fills defaults (hard, billed) and checks b.
func (b Budget) Normalize() (Budget, error) {
	if !slices.Contains(Names, b.Name) {
		return b, fmt.Errorf("%q: %w", b.Name, ErrUnknownBudget)
	}
	if b.Mode == "" {
		b.Mode = Hard
	}
	if b.Basis == "" {
		b.Basis = Billed
	}
	if b.Mode != Soft && b.Mode != Hard {
		return b, fmt.Errorf("budget %s: mode %q (soft or hard): %w", b.Name, b.Mode, ErrBadBudget)
	}
	if b.Basis != Billed && b.Basis != APIEquivalent {
		return b, fmt.Errorf("budget %s: basis %q (billed or api_equivalent): %w", b.Name, b.Basis, ErrBadBudget)
	}
	if !(b.Limit > 0) || math.IsInf(b.Limit, 0) || b.Limit > 1e9 {
		return b, fmt.Errorf("budget %s: limit %v must be a positive number: %w", b.Name, b.Limit, ErrBadBudget)
	}
	if b.Name == RequestsDaily && b.Limit != math.Trunc(b.Limit) {
		return b, fmt.Errorf("budget %s: limit %v must be a whole number of requests: %w", b.Name, b.Limit, ErrBadBudget)
	}
	return b, nil
}

// money reports whether budget n counts dollars (not requests).
func (n Name) money() bool { return n != RequestsDaily }

// Format writes an amount of budget n for a person: "$12.34",
// "$0.50/min", "1200 requests".
func (n Name) Format(v float64) string {
	switch n {
	case RequestsDaily:
		return strconv.FormatInt(int64(math.Round(v)), 10) + " requests"
	case Rate:
		return dollars(v) + "/min"
	}
	return dollars(v)
}

// dollars shows cents, or four digits under a cent as the desktop does
// (coreapi.FormatUSD): a limit of $0.004 a minute must not read "$0.00".
func dollars(v float64) string {
	prec := 2
	if a := math.Abs(v); a > 0 && a < 0.01 {
		prec = 4
	}
	return "$" + strconv.FormatFloat(v, 'f', prec, 64)
}

// period names the period of budget n that contains now in loc (a day, a
// month, a session id; "" for the rate, which has none), and when it ends
// (zero when it has no fixed end).
func period(n Name, now time.Time, loc *time.Location, session string) (string, time.Time) {
	t := now.In(loc)
	switch n {
	case Daily, RequestsDaily:
		y, m, d := t.Date()
		return t.Format(time.DateOnly), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	case Monthly:
		y, m, _ := t.Date()
		return t.Format("2006-01"), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	case Session:
		return session, time.Time{}
	}
	return "", time.Time{}
}

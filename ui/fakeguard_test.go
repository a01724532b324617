package ui

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// fakeGuard is the fake core's spend guard, knobs and route options
// (coreapi.SpendGuard, Knobs, Road); fakeCore.mu guards it.
type fakeGuard struct {
	budgets    []coreapi.BudgetStatus
	allowUntil time.Time
	limits     coreapi.LimitsView
	quota      coreapi.QuotaView
	brake      coreapi.BrakeView
	knobs      []coreapi.Knob
	routeOpts  []coreapi.RouteOptions
	now        time.Time
}

func newFakeGuard(now time.Time) fakeGuard {
	endOfDay := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, now.Location())
	return fakeGuard{
		now: now,
		budgets: []coreapi.BudgetStatus{
			{Budget: coreapi.Budget{Name: coreapi.BudgetDaily, Limit: 10, Mode: coreapi.ModeHard, Basis: coreapi.BasisBilled},
				Spent: 8.5, Fraction: 0.85, Period: now.Format("2006-01-02"), Resets: endOfDay},
			{Budget: coreapi.Budget{Name: coreapi.BudgetMonthly, Limit: 100, Mode: coreapi.ModeSoft, Basis: coreapi.BasisAPIEquivalent},
				Spent: 41.5, Fraction: 0.415, Period: now.Format("2006-01")},
		},
		limits: coreapi.LimitsView{RPM: 100, Concurrency: 4, QueueWait: time.Minute, FollowUpstream: true,
			InUse: 3, Waiting: 2, Refused: map[string]uint64{"rpm": 7}, Waited: 12, WaitedTotal: 18 * time.Second},
		quota: coreapi.QuotaView{Accounts: []coreapi.QuotaAccount{{
			Account: "org-0f0e", Status: "allowed", RepresentativeClaim: "five_hour", Seen: now,
			Windows: []coreapi.QuotaWindow{
				{Name: "5h", Utilization: 0.42, Reset: now.Add(110 * time.Minute), Status: "allowed"},
				{Name: "7d", Utilization: 0.63, Reset: now.Add(3 * 24 * time.Hour), Status: "allowed"},
			},
		}}},
		brake: coreapi.BrakeView{Enabled: true, Repeats: 8, Window: 10 * time.Minute, Refused: map[string]uint64{"tool_loop": 3},
			Stopped: []coreapi.BrakeStop{{Session: "sess-7f3a", At: now.Add(-5 * time.Minute), Reason: "tool_loop", Tool: "Bash", Repeats: 8}}},
		knobs: []coreapi.Knob{
			{Key: "limit.rpm", Value: "100", Default: "100", Type: coreapi.KnobInteger, Applies: "now",
				Help: "Requests per minute per API key to Anthropic's Messages API (0: no limit)", Allowed: "an integer, from 0 to 1000000"},
			{Key: "limit.concurrency", Value: "4", Default: "0", Stored: true, Type: coreapi.KnobInteger, Applies: "now",
				Help: "Most requests upstream at once; the rest wait in line (0: no limit)", Allowed: "an integer, from 0 to 10000"},
			{Key: "limit.follow_upstream", Value: "on", Default: "on", Type: coreapi.KnobBool, Applies: "now",
				Help: "Wait for Anthropic's rate-limit reset when 5% or less remains, instead of meeting a 429", Allowed: "on or off"},
			{Key: "brake.enabled", Value: "on", Default: "on", Type: coreapi.KnobBool, Applies: "now",
				Help: "Stop an agent that repeats the same tool call with the same result", Allowed: "on or off"},
			{Key: "display.currency", Value: "USD", Default: "USD", Type: coreapi.KnobString, Applies: "now",
				Help: "Currency amounts are also shown in (records stay in US dollars)", Allowed: "a three-letter currency code such as USD or CNY"},
			{Key: "retry.max_attempts", Value: "3", Default: "3", Type: coreapi.KnobInteger, Applies: "now",
				Help: "Upstream attempts for one request before its first byte, failovers included (1: no retries)", Allowed: "an integer, from 1 to 8"},
			{Key: "road.failover", Value: "auto_only", Default: "auto_only", Type: coreapi.KnobEnum, Values: []string{"auto_only", "always"}, Applies: "now",
				Help: "When a road failure moves a request to another route: in Auto mode only, or also from a route chosen by hand", Allowed: "one of auto_only, always"},
			{Key: "road.stream_idle_timeout", Value: "5m0s", Default: "5m0s", Type: coreapi.KnobDuration, Applies: coreapi.KnobNextStart,
				Help: "An event stream silent this long is ended with a timeout error the client can retry (other bodies: upstream.idle_timeout)", Allowed: "a duration such as 90s, 10m, 1h or 90d, from 5s to 1h"},
		},
		routeOpts: []coreapi.RouteOptions{
			{Name: "Office SOCKS", Breaker: coreapi.BreakerClosed, HTTP: "auto", KeyShare: "auto", Warm: true},
			{Name: "Direct", Breaker: coreapi.BreakerOpen, HTTP: "1.1", KeyShare: "classic", LearntHTTP1: true, LearntClassicSince: now.Add(-time.Hour)},
		},
	}
}

func (c *fakeCore) Budgets(ctx context.Context) (coreapi.BudgetsView, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return coreapi.BudgetsView{Budgets: slices.Clone(c.guard.budgets), AllowUntil: c.guard.allowUntil, Timezone: "Local"}, nil
}

func (c *fakeCore) SetBudget(ctx context.Context, b coreapi.Budget) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(coreapi.BudgetNames, b.Name) {
		return fmt.Errorf("unknown budget %q", b.Name)
	}
	if !(b.Limit > 0) || b.Name == coreapi.BudgetRequestsDaily && b.Limit != math.Trunc(b.Limit) {
		return fmt.Errorf("budget %s: limit %v must be a positive number", b.Name, b.Limit)
	}
	c.record("SetBudget %s %g %s %s", b.Name, b.Limit, b.Mode, b.Basis)
	for i, s := range c.guard.budgets {
		if s.Name == b.Name {
			c.guard.budgets[i].Budget = b
			c.guard.budgets[i].Fraction = s.Spent / b.Limit
			return nil
		}
	}
	c.guard.budgets = append(c.guard.budgets, coreapi.BudgetStatus{Budget: b})
	return nil
}

func (c *fakeCore) ClearBudget(ctx context.Context, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("ClearBudget %s", name)
	c.guard.budgets = slices.DeleteFunc(c.guard.budgets, func(s coreapi.BudgetStatus) bool { return s.Name == name })
	return nil
}

func (c *fakeCore) AllowBudgets(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("AllowBudgets %v", d)
	c.guard.allowUntil = c.guard.now.Add(d)
	for i := range c.guard.budgets {
		c.guard.budgets[i].Refusing = false
	}
	return nil
}

func (c *fakeCore) Limits(ctx context.Context) (coreapi.LimitsView, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.guard.limits, nil
}

func (c *fakeCore) Quota(ctx context.Context) (coreapi.QuotaView, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.guard.quota, nil
}

func (c *fakeCore) Brake(ctx context.Context) (coreapi.BrakeView, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.guard.brake
	b.Stopped = slices.Clone(b.Stopped)
	return b, nil
}

func (c *fakeCore) ReleaseBrake(ctx context.Context, session string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("ReleaseBrake %s", session)
	for i, s := range c.guard.brake.Stopped {
		if s.Session == session {
			c.guard.brake.Stopped[i].ReleasedUntil = c.guard.now.Add(time.Hour)
			return nil
		}
	}
	return fmt.Errorf("no stopped session %q", session)
}

func (c *fakeCore) Knobs(ctx context.Context, prefixes ...string) ([]coreapi.Knob, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []coreapi.Knob
	for _, k := range c.guard.knobs {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(k.Key, p) }) {
			out = append(out, k)
		}
	}
	return out, nil
}

// SetKnob checks values the way the registry does for the types the
// tests use.
func (c *fakeCore) SetKnob(ctx context.Context, key, value string) (coreapi.Knob, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range c.guard.knobs {
		if k.Key != key {
			continue
		}
		bad := false
		switch k.Type {
		case coreapi.KnobInteger:
			_, err := strconv.ParseInt(value, 10, 64)
			bad = err != nil
		case coreapi.KnobDuration:
			_, err := time.ParseDuration(value)
			bad = err != nil
		case coreapi.KnobBool:
			bad = value != "on" && value != "off"
		case coreapi.KnobEnum:
			bad = !slices.Contains(k.Values, value)
		}
		if bad {
			return k, fmt.Errorf("%s: %q is not allowed: %s", key, value, k.Allowed)
		}
		c.record("SetKnob %s %s", key, value)
		c.guard.knobs[i].Value, c.guard.knobs[i].Stored = value, true
		return c.guard.knobs[i], nil
	}
	return coreapi.Knob{}, fmt.Errorf("unknown setting %q", key)
}

func (c *fakeCore) ResetKnob(ctx context.Context, key string) (coreapi.Knob, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range c.guard.knobs {
		if k.Key == key {
			c.record("ResetKnob %s", key)
			c.guard.knobs[i].Value, c.guard.knobs[i].Stored = k.Default, false
			return c.guard.knobs[i], nil
		}
	}
	return coreapi.Knob{}, fmt.Errorf("unknown setting %q", key)
}

func (c *fakeCore) RouteOptions(ctx context.Context) ([]coreapi.RouteOptions, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.guard.routeOpts), nil
}

func (c *fakeCore) SetRouteOption(ctx context.Context, route, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, o := range c.guard.routeOpts {
		if o.Name != route {
			continue
		}
		c.record("SetRouteOption %s %s=%s", route, key, value)
		switch key {
		case coreapi.RouteHTTP:
			c.guard.routeOpts[i].HTTP = value
		case coreapi.RouteKeyShare:
			c.guard.routeOpts[i].KeyShare = value
		case coreapi.RouteRegion:
			c.guard.routeOpts[i].Region = value
		default:
			return fmt.Errorf("unknown field %q", key)
		}
		return nil
	}
	return fmt.Errorf("no route %q", route)
}

func (c *fakeCore) ForgetRoute(ctx context.Context, route string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, o := range c.guard.routeOpts {
		if o.Name == route {
			c.record("ForgetRoute %s", route)
			c.guard.routeOpts[i].LearntHTTP1, c.guard.routeOpts[i].LearntClassicSince = false, time.Time{}
			return nil
		}
	}
	return fmt.Errorf("no route %q", route)
}

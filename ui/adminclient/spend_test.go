package adminclient_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/ui/adminclient"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The "Budgets and limits" page's operations, against a real core
// through the admin API only.
func TestSpendGuardAgainstARealCore(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	ctx := context.Background()

	if err := c.SetBudget(ctx, coreapi.Budget{Name: coreapi.BudgetDaily, Limit: 5, Mode: coreapi.ModeSoft, Basis: coreapi.BasisAPIEquivalent}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetBudget(ctx, coreapi.Budget{Name: coreapi.BudgetRequestsDaily, Limit: 1.5}); err == nil {
		t.Error("1.5 requests accepted")
	}
	message(t, srv.BaseURL())
	// The exchange's cost lands in the books when its record is written,
	// just after the client has its answer.
	var v coreapi.BudgetsView
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var err error
		if v, err = c.Budgets(ctx); err != nil {
			t.Fatal(err)
		}
		if len(v.Budgets) != 1 || v.Budgets[0].Spent > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(v.Budgets) != 1 {
		t.Fatalf("budgets = %+v", v.Budgets)
	}
	b := v.Budgets[0]
	if b.Name != coreapi.BudgetDaily || b.Limit != 5 || b.Mode != coreapi.ModeSoft || b.Basis != coreapi.BasisAPIEquivalent ||
		b.Spent <= 0 || b.Fraction != b.Spent/5 || b.Period == "" || b.Resets.IsZero() || b.Refusing {
		t.Errorf("daily budget = %+v", b)
	}
	if v.Timezone == "" {
		t.Error("no time zone")
	}
	if err := c.AllowBudgets(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Budgets(ctx); time.Until(v.AllowUntil) < 59*time.Minute {
		t.Errorf("allow until %v", v.AllowUntil)
	}
	if err := c.ClearBudget(ctx, coreapi.BudgetDaily); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Budgets(ctx); len(v.Budgets) != 0 {
		t.Errorf("cleared budget still there: %+v", v.Budgets)
	}

	// The limits are knobs; the view follows them.
	if _, err := c.SetKnob(ctx, "limit.concurrency", "4"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetKnob(ctx, "limit.rpm", "lots"); err == nil {
		t.Error("bad rpm accepted")
	}
	l, err := c.Limits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l.RPM != 100 || l.Concurrency != 4 || l.QueueWait != time.Minute || !l.FollowUpstream || l.InUse != 0 {
		t.Errorf("limits = %+v", l)
	}
	knobs, err := c.Knobs(ctx, "limit.", "brake.")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]coreapi.Knob{}
	for _, k := range knobs {
		got[k.Key] = k
	}
	if k := got["limit.concurrency"]; k.Value != "4" || !k.Stored || k.Type != coreapi.KnobInteger || k.Help == "" || k.Allowed == "" {
		t.Errorf("limit.concurrency = %+v", k)
	}
	if k := got["brake.enabled"]; k.Type != coreapi.KnobBool || k.Value != "on" || k.Stored {
		t.Errorf("brake.enabled = %+v", k)
	}
	if _, ok := got["retry.max_attempts"]; ok || len(got) != 9 {
		t.Errorf("knobs of limit. and brake.: %d, %v", len(got), knobs)
	}
	if k, err := c.ResetKnob(ctx, "limit.concurrency"); err != nil || k.Value != "0" || k.Stored {
		t.Errorf("reset: %+v, %v", k, err)
	}

	// The quota as Anthropic's answers to a subscription show it.
	reset5h := time.Now().Add(90 * time.Minute).Truncate(time.Second)
	srv.Quota().Observe(http.Header{
		"Anthropic-Ratelimit-Unified-Status":         {"allowed"},
		"Anthropic-Ratelimit-Unified-5h-Utilization": {"0.42"},
		"Anthropic-Ratelimit-Unified-5h-Reset":       {strconv.FormatInt(reset5h.Unix(), 10)},
		"Anthropic-Ratelimit-Unified-7d-Utilization": {"0.63"},
	}, "org-1")
	q, err := c.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Accounts) != 1 {
		t.Fatalf("quota = %+v", q)
	}
	w5, ok := q.Accounts[0].Window("5h")
	if !ok || w5.Utilization != 0.42 || !w5.Reset.Equal(reset5h) {
		t.Errorf("5h window = %+v", w5)
	}
	if w7, ok := q.Accounts[0].Window("7d"); !ok || w7.Utilization != 0.63 {
		t.Errorf("7d window = %+v", w7)
	}

	br, err := c.Brake(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !br.Enabled || br.Repeats != 8 || br.Window != 10*time.Minute || len(br.Stopped) != 0 {
		t.Errorf("brake = %+v", br)
	}
	if err := c.ReleaseBrake(ctx, "sess-1"); err != nil {
		t.Fatal(err)
	}
}

// The Network page's route options and breaker, against a real core.
func TestRouteOptionsAgainstARealCore(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	ctx := context.Background()
	if err := c.AddRoute("Home", "direct"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRouteOption(ctx, "Home", coreapi.RouteHTTP, "1.1"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRouteOption(ctx, "Home", coreapi.RouteKeyShare, "quantum"); err == nil {
		t.Error("bad key share accepted")
	}
	if err := c.SetRouteOption(ctx, "Home", coreapi.RouteKeyShare, "classic"); err != nil {
		t.Fatal(err)
	}
	opts, err := c.RouteOptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var home, direct coreapi.RouteOptions
	for _, o := range opts {
		switch o.Name {
		case "Home":
			home = o
		case "Direct":
			direct = o
		}
	}
	if home.HTTP != "1.1" || home.KeyShare != "classic" || home.Breaker != coreapi.BreakerClosed || home.Via {
		t.Errorf("Home = %+v", home)
	}
	if direct.HTTP != "auto" || direct.KeyShare != "auto" || direct.Breaker != coreapi.BreakerClosed {
		t.Errorf("Direct = %+v (all %+v)", direct, opts)
	}
	if err := c.SetRouteOption(ctx, "Home", coreapi.RouteHTTP, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetRoute(ctx, "Home"); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetRoute(ctx, "Nowhere"); err == nil {
		t.Error("forgot a route that does not exist")
	}
	road, err := c.Knobs(ctx, "retry.", "road.")
	if err != nil || len(road) != 9 {
		t.Fatalf("road knobs: %d, %v", len(road), err)
	}
	for _, k := range road {
		if k.Key == "road.h2_ping_interval" && k.Applies != coreapi.KnobNextStart {
			t.Errorf("%s applies %q", k.Key, k.Applies)
		}
	}
}

// The windows' language reaches the core: a setting's help and why a
// value was refused come back in it.
func TestClientAsksInTheWindowsLanguage(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	c.SetLanguage("zh-CN")
	ctx := context.Background()
	knobs, err := c.Knobs(ctx, "limit.rpm")
	if err != nil || len(knobs) != 1 {
		t.Fatalf("knobs %v, %v", knobs, err)
	}
	if !strings.Contains(knobs[0].Help, "每分钟") {
		t.Errorf("help in %q", knobs[0].Help)
	}
	_, err = c.SetKnob(ctx, "limit.rpm", "lots")
	if err == nil || !strings.ContainsFunc(err.Error(), func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
		t.Errorf("refusal in English: %v", err)
	}
}

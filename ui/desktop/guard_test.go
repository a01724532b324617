package desktop

import (
	"net/http"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/proxy/testsupport/testcore"
	"github.com/ferry-gateway/ferry/ui/tray"
)

// The tray's view of a real core's spend guard, and its two actions.
func TestServerGuard(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := testcore.Start(t, fake.URL)
	g := serverGuard{srv}

	if err := srv.Budgets().Set(budget.Budget{Name: budget.Daily, Limit: 5, Mode: budget.Hard}); err != nil {
		t.Fatal(err)
	}
	srv.Quota().Observe(http.Header{
		"Anthropic-Ratelimit-Unified-5h-Utilization": {"0.42"},
		"Anthropic-Ratelimit-Unified-7d-Utilization": {"0.63"},
	}, "org-1")
	b := g.Budgets()
	if len(b.Budgets) != 1 || b.Budgets[0].Name != "daily" || b.Budgets[0].Limit != 5 || b.Budgets[0].Mode != "hard" || b.Budgets[0].Refusing {
		t.Fatalf("budgets = %+v", b)
	}
	st := tray.GuardFrom(b, g.Quota(), g.Brake(), time.Now(), time.Local)
	if st.Budget != "" || !st.Has5h || st.Quota5h != 42 || st.Quota7d != 63 || len(st.Stopped) != 0 {
		t.Fatalf("guard = %+v", st)
	}
	if got := tray.GuardItem("en", st); got != "5h 42% · week 63%" {
		t.Errorf("status line item %q", got)
	}
	if err := g.AllowBudgets(tray.AllowFor); err != nil {
		t.Fatal(err)
	}
	if a := srv.Budgets().Allowances(); len(a) != 1 || a[0].By != "tray" || time.Until(g.Budgets().AllowUntil) < 59*time.Minute {
		t.Errorf("allowances %+v", a)
	}
	if err := g.ReleaseBrake("sess-1"); err != nil {
		t.Fatal(err)
	}
}

package desktop

import (
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/ui/coreapi"
	"github.com/ferry-gateway/ferry/ui/tray"
)

// serverGuard is the spend guard as the tray reads it: in-process calls
// on the core's budget guard, quota tracker and brake (no admin API; the
// tray lives in the core). Each read is a few map lookups under a lock.
type serverGuard struct{ srv *app.Server }

var _ tray.GuardCore = serverGuard{}

// by is what the core records as the origin of an allowance or a release.
const by = "tray"

func (g serverGuard) Budgets() coreapi.BudgetsView {
	v := g.srv.Budgets().View("")
	out := coreapi.BudgetsView{AllowUntil: v.AllowUntil, Timezone: v.Timezone, Currency: v.Display.Currency, PerUSD: v.Display.PerUSD}
	for _, s := range v.Budgets {
		out.Budgets = append(out.Budgets, coreapi.BudgetStatus{
			Budget: coreapi.Budget{Name: string(s.Name), Limit: s.Limit, Mode: string(s.Mode), Basis: string(s.Basis)},
			Spent:  s.Spent, Fraction: s.Fraction, Period: s.Period, Resets: s.Resets, Refusing: s.Refusing,
			Refused: v.Refused[s.Name],
		})
	}
	return out
}

func (g serverGuard) Quota() coreapi.QuotaView {
	var out coreapi.QuotaView
	for _, a := range g.srv.Quota().Accounts() {
		acc := coreapi.QuotaAccount{Account: a.Account, Status: a.Status, RepresentativeClaim: a.RepresentativeClaim,
			OverageStatus: a.OverageStatus, Seen: a.Seen}
		for _, w := range a.Windows {
			acc.Windows = append(acc.Windows, coreapi.QuotaWindow{Name: w.Name, Utilization: w.Utilization, Reset: w.Reset, Status: w.Status})
		}
		out.Accounts = append(out.Accounts, acc)
	}
	return out
}

// Brake lists the stopped sessions only: the tray shows nothing else of
// the brake.
func (g serverGuard) Brake() coreapi.BrakeView {
	var out coreapi.BrakeView
	for _, f := range g.srv.Brake().List() {
		out.Stopped = append(out.Stopped, coreapi.BrakeStop{Session: f.Session, At: f.At, Reason: f.Reason, Tool: f.Tool,
			Repeats: f.Repeats, ReleasedUntil: f.Released})
	}
	return out
}

func (g serverGuard) AllowBudgets(d time.Duration) error {
	_, err := g.srv.Budgets().Allow(d, by)
	return err
}

func (g serverGuard) ReleaseBrake(session string) error {
	_, err := g.srv.Brake().Release(session, brake.ReleaseFor, by)
	return err
}

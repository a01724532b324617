package adminclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The spend guard's admin endpoints (proxy/budget, proxy/limit,
// proxy/quota and proxy/brake handlers.go); only the fields the windows
// read.
type (
	budgetJSON struct {
		Name  string  `json:"name"`
		Limit float64 `json:"limit"`
		Mode  string  `json:"mode"`
		Basis string  `json:"basis"`
	}
	budgetStatusJSON struct {
		budgetJSON
		Spent    float64   `json:"spent"`
		Fraction float64   `json:"fraction"`
		Period   string    `json:"period"`
		Resets   time.Time `json:"resets"`
		Refusing bool      `json:"refusing"`
	}
	budgetsJSON struct {
		Budgets []budgetStatusJSON `json:"budgets"`
		Refused map[string]uint64  `json:"refused"`
		Display struct {
			Currency string  `json:"currency"`
			PerUSD   float64 `json:"per_usd"`
		} `json:"display"`
		Timezone   string    `json:"timezone"`
		AllowUntil time.Time `json:"allow_until"`
	}
	limitsJSON struct {
		RPM              int   `json:"rpm"`
		ITPM             int64 `json:"itpm"`
		OTPM             int64 `json:"otpm"`
		Concurrency      int   `json:"concurrency"`
		QueueWaitSeconds int   `json:"queue_wait_seconds"`
		FollowUpstream   bool  `json:"follow_upstream"`
		Queue            struct {
			InUse   int `json:"in_use"`
			Waiting int `json:"waiting"`
		} `json:"queue"`
		Refused  map[string]uint64 `json:"refused"`
		Waited   uint64            `json:"waited"`
		WaitedMS float64           `json:"waited_ms"`
	}
	quotaJSON struct {
		Accounts []struct {
			Account             string `json:"account"`
			Status              string `json:"status"`
			RepresentativeClaim string `json:"representative_claim"`
			OverageStatus       string `json:"overage_status"`
			Windows             []struct {
				Name        string    `json:"name"`
				Utilization float64   `json:"utilization"`
				Reset       time.Time `json:"reset"`
				Status      string    `json:"status"`
			} `json:"windows"`
			Seen time.Time `json:"seen"`
		} `json:"accounts"`
	}
	brakeJSON struct {
		Enabled       bool `json:"enabled"`
		Repeats       int  `json:"repeats"`
		WindowSeconds int  `json:"window_seconds"`
		Stopped       []struct {
			Session  string    `json:"session"`
			At       time.Time `json:"at"`
			Reason   string    `json:"reason"`
			Tool     string    `json:"tool"`
			Repeats  int       `json:"repeats"`
			Released time.Time `json:"released_until"`
		} `json:"stopped"`
		Refused map[string]uint64 `json:"refused"`
	}
)

// by is what the core records as the origin of an allowance or a release.
const by = "window"

func (c *Client) Budgets(ctx context.Context) (coreapi.BudgetsView, error) {
	var in budgetsJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/budgets", nil, &in); err != nil {
		return coreapi.BudgetsView{}, err
	}
	out := coreapi.BudgetsView{AllowUntil: in.AllowUntil, Timezone: in.Timezone,
		Currency: in.Display.Currency, PerUSD: in.Display.PerUSD}
	for _, b := range in.Budgets {
		out.Budgets = append(out.Budgets, coreapi.BudgetStatus{
			Budget: coreapi.Budget{Name: b.Name, Limit: b.Limit, Mode: b.Mode, Basis: b.Basis},
			Spent:  b.Spent, Fraction: b.Fraction, Period: b.Period, Resets: b.Resets,
			Refusing: b.Refusing, Refused: in.Refused[b.Name],
		})
	}
	return out, nil
}

func (c *Client) SetBudget(ctx context.Context, b coreapi.Budget) error {
	return c.do(ctx, http.MethodPut, "/_ferry/budgets", budgetJSON{Name: b.Name, Limit: b.Limit, Mode: b.Mode, Basis: b.Basis}, nil)
}

func (c *Client) ClearBudget(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/_ferry/budgets?name="+url.QueryEscape(name), nil, nil)
}

func (c *Client) AllowBudgets(ctx context.Context, d time.Duration) error {
	return c.do(ctx, http.MethodPost, "/_ferry/budgets/allow", map[string]string{"duration": d.String(), "by": by}, nil)
}

func (c *Client) Limits(ctx context.Context) (coreapi.LimitsView, error) {
	var in limitsJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/limits", nil, &in); err != nil {
		return coreapi.LimitsView{}, err
	}
	return coreapi.LimitsView{
		RPM: in.RPM, ITPM: in.ITPM, OTPM: in.OTPM, Concurrency: in.Concurrency,
		QueueWait: time.Duration(in.QueueWaitSeconds) * time.Second, FollowUpstream: in.FollowUpstream,
		InUse: in.Queue.InUse, Waiting: in.Queue.Waiting, Refused: in.Refused,
		Waited: in.Waited, WaitedTotal: time.Duration(in.WaitedMS * float64(time.Millisecond)),
	}, nil
}

func (c *Client) Quota(ctx context.Context) (coreapi.QuotaView, error) {
	var in quotaJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/quota", nil, &in); err != nil {
		return coreapi.QuotaView{}, err
	}
	var out coreapi.QuotaView
	for _, a := range in.Accounts {
		acc := coreapi.QuotaAccount{Account: a.Account, Status: a.Status, RepresentativeClaim: a.RepresentativeClaim,
			OverageStatus: a.OverageStatus, Seen: a.Seen}
		for _, w := range a.Windows {
			acc.Windows = append(acc.Windows, coreapi.QuotaWindow{Name: w.Name, Utilization: w.Utilization, Reset: w.Reset, Status: w.Status})
		}
		out.Accounts = append(out.Accounts, acc)
	}
	return out, nil
}

func (c *Client) Brake(ctx context.Context) (coreapi.BrakeView, error) {
	var in brakeJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/brake", nil, &in); err != nil {
		return coreapi.BrakeView{}, err
	}
	out := coreapi.BrakeView{Enabled: in.Enabled, Repeats: in.Repeats,
		Window: time.Duration(in.WindowSeconds) * time.Second, Refused: in.Refused}
	for _, s := range in.Stopped {
		out.Stopped = append(out.Stopped, coreapi.BrakeStop{Session: s.Session, At: s.At, Reason: s.Reason,
			Tool: s.Tool, Repeats: s.Repeats, ReleasedUntil: s.Released})
	}
	return out, nil
}

// ReleaseBrake releases for the core's default, one hour.
func (c *Client) ReleaseBrake(ctx context.Context, session string) error {
	return c.do(ctx, http.MethodPost, "/_ferry/brake/release", map[string]string{"session": session, "by": by}, nil)
}

package desktop

import (
	"context"
	"slices"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/ui/coreapi"
	"github.com/ferry-gateway/ferry/ui/tray"
)

// serverCore is the running core as the tray reads it: in-process calls,
// no admin API (the tray lives in the core).
type serverCore struct{ srv *app.Server }

var _ tray.Core = serverCore{}

func (c serverCore) Paused() bool { return c.srv.Proxy().Paused() }

func (c serverCore) SetPaused(paused bool) {
	if paused {
		c.srv.Proxy().Pause()
	} else {
		c.srv.Proxy().Resume()
	}
}

func (c serverCore) Routes() []coreapi.RouteStatus {
	sts := c.srv.Routes().Routes()
	out := make([]coreapi.RouteStatus, 0, len(sts))
	for _, st := range sts {
		out = append(out, coreapi.RouteStatus{
			Name: st.Name, URL: st.URL, Via: st.Via,
			Checked: !st.Health.Checked.IsZero(), Up: st.Health.Up, Latency: st.Health.Latency,
			Err: st.Health.Err, History: slices.Clone(st.History), Current: st.Current,
		})
	}
	return out
}

func (c serverCore) Choice() string { return c.srv.Routes().Choice() }

func (c serverCore) Use(choice string) error {
	if choice == coreapi.AutoChoice {
		return c.srv.Routes().UseAuto()
	}
	return c.srv.Routes().Use(choice)
}

func (c serverCore) TestAll(ctx context.Context) { c.srv.Routes().TestNow(ctx) }

// Today sums today (local time) only: the tray shows nothing else.
func (c serverCore) Today() (float64, int64, error) {
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	st, err := c.srv.Stats().StatsBetween(day, now.Add(time.Second))
	return st.SpendTodayUSD, int64(st.RequestsToday), err
}

func (c serverCore) Language() string   { return c.srv.Language() }
func (c serverCore) BaseURL() string    { return c.srv.BaseURL() }
func (c serverCore) LocalToken() string { return c.srv.Keys().LocalToken() }

func (c serverCore) Subscribe(buf int) (<-chan events.Event, func()) {
	return c.srv.Bus().Subscribe(buf)
}

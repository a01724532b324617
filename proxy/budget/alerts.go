package budget

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Levels are the alert thresholds, in percent of a budget.
var Levels = []int{80, 95, 100}

// alertState is the highest level alerted in a budget's current period.
type alertState struct {
	Period string    `json:"period"`
	Level  int       `json:"level"`
	At     time.Time `json:"at"`
}

// maxSessionAlerts bounds the session budgets' alert state kept.
const maxSessionAlerts = 256

// level returns the highest threshold fraction has reached, 0 for none.
func level(fraction float64) int {
	l := 0
	for _, t := range Levels {
		if fraction*100 >= float64(t) {
			l = t
		}
	}
	return l
}

// checkAlerts raises an alert for each budget that crossed a threshold not
// yet alerted in its period, and persists the new state so that a restart
// repeats none. A jump across several thresholds raises the highest only.
// The rate has no period: its alerts re-arm when it falls back below a
// threshold.
func (g *Guard) checkAlerts(session string, now time.Time) {
	// Most requests leave every budget under its first threshold: that is
	// read from the ledger alone, without the alert state's lock.
	if !g.rateAlerted.Load() && !g.nearAny(session, now) {
		return
	}
	type raise struct {
		st  Status
		lvl int
	}
	var raised []raise
	g.mu.Lock()
	changed := false
	for _, b := range *g.budgets.Load() {
		if b.Name == Session && session == "" {
			continue
		}
		st := g.status(b, session, now)
		key := string(b.Name)
		if b.Name == Session {
			key = "session:" + st.Period
		}
		old := g.alerts[key]
		if old.Period != st.Period {
			old = alertState{Period: st.Period}
		}
		lvl := level(st.Fraction)
		switch {
		case lvl > old.Level:
			raised = append(raised, raise{st, lvl})
			g.alerts[key] = alertState{Period: st.Period, Level: lvl, At: now}
			changed = true
		case b.Name == Rate && lvl < old.Level:
			g.alerts[key] = alertState{Period: st.Period, Level: lvl, At: now}
			changed = true
		}
	}
	g.rateAlerted.Store(g.alerts[string(Rate)].Level > 0)
	if changed {
		g.boundSessionAlerts()
		if g.o.Settings != nil {
			if err := g.o.Settings.PutSetting(AlertsKey, g.alerts); err != nil {
				g.o.Logger.Warn("budget alert state not saved; an alert may repeat after a restart", "err", err)
			}
		}
	}
	g.mu.Unlock()
	for _, r := range raised {
		g.publishAlert(r.st, r.lvl, now)
	}
}

// nearAny reports whether any budget is at or past its first threshold.
func (g *Guard) nearAny(session string, now time.Time) bool {
	first := float64(Levels[0]) / 100
	bs := *g.budgets.Load()
	var spent [maxBudgets]float64
	g.ledger.spentAll(bs, session, now, spent[:len(bs)])
	for i, b := range bs {
		if spent[i] >= first*b.Limit {
			return true
		}
	}
	return false
}

// boundSessionAlerts forgets the oldest session alert states beyond
// maxSessionAlerts. Call with mu held.
func (g *Guard) boundSessionAlerts() {
	n := 0
	for k := range g.alerts {
		if len(k) > 8 && k[:8] == "session:" {
			n++
		}
	}
	for ; n > maxSessionAlerts; n-- {
		oldest := ""
		for k, s := range g.alerts {
			if len(k) > 8 && k[:8] == "session:" && (oldest == "" || s.At.Before(g.alerts[oldest].At)) {
				oldest = k
			}
		}
		delete(g.alerts, oldest)
	}
}

func (g *Guard) publishAlert(st Status, lvl int, now time.Time) {
	what := string(st.Name) + " budget"
	if st.Name == Session {
		what = "session budget (session " + shortSession(st.Period) + ")"
	}
	detail := fmt.Sprintf("%s at %d%%: %s of %s (%s, %s)", what, lvl, st.Name.Format(st.Spent), st.Name.Format(st.Limit), st.Basis, st.Mode)
	if lvl >= 100 && st.Mode == Hard {
		detail += "; new requests are refused until it resets or `ferry budget allow 1h`"
	}
	attrs := map[string]string{
		"budget": string(st.Name), "level": strconv.Itoa(lvl),
		"spent": strconv.FormatFloat(st.Spent, 'f', -1, 64), "limit": strconv.FormatFloat(st.Limit, 'f', -1, 64),
		"basis": string(st.Basis), "mode": string(st.Mode), "period": st.Period,
	}
	if !st.Resets.IsZero() {
		attrs["resets"] = st.Resets.Format(time.RFC3339)
	}
	g.o.Logger.Warn("budget alert: "+detail, "budget", st.Name, "level", lvl)
	if g.o.Publish != nil {
		g.o.Publish(events.Event{Kind: events.BudgetAlert, Time: now, Detail: detail, Attrs: attrs})
	}
}

// shortSession shows enough of a session id to tell sessions apart.
func shortSession(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

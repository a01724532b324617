package usage

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
	"github.com/ferry-gateway/ferry/storage"
)

// UsageRow is one line of `ferry usage`: a model, a route or a local day.
type UsageRow struct {
	Key string `json:"key"`
	storage.Breakdown
}

// UsageReport is the JSON of /_ferry/usage.
type UsageReport struct {
	Since string     `json:"since"`
	By    string     `json:"by"`
	From  time.Time  `json:"from"`
	To    time.Time  `json:"to"`
	Rows  []UsageRow `json:"rows"`
	Total UsageRow   `json:"total"`
}

// Usage groupings.
const (
	ByModel = "model"
	ByDay   = "day"
	ByRoute = "route"
)

// Usage sums the requests of the span ending at now by model, route (most
// expensive first) or local day (oldest first, every day present). It reads
// the database directly, so the CLI can use it when Ferry is not running.
func Usage(db StatsSource, since time.Duration, by string, now time.Time, loc *time.Location) (UsageReport, error) {
	if loc == nil {
		loc = time.Local
	}
	rep := UsageReport{By: by, From: now.Add(-since), To: now, Rows: []UsageRow{}}
	switch by {
	case ByModel, ByRoute:
		s, err := db.Summary(now.Add(-since), now)
		if err != nil {
			return UsageReport{}, err
		}
		rep.From, rep.To = s.From, s.To
		m := s.ByModel
		if by == ByRoute {
			m = s.ByRoute
		}
		for k, b := range m {
			rep.Rows = append(rep.Rows, UsageRow{Key: k, Breakdown: b})
		}
		slices.SortFunc(rep.Rows, func(a, b UsageRow) int {
			return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Requests, a.Requests), strings.Compare(a.Key, b.Key))
		})
	case ByDay:
		start := now.Add(-since).In(loc)
		day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc)
		rep.From = day
		for day.Before(now) {
			next := day.AddDate(0, 0, 1) // a local day: 23 or 25 hours across DST
			end := next
			if end.After(now) {
				end = now
			}
			s, err := db.Summary(day, end)
			if err != nil {
				return UsageReport{}, err
			}
			rep.Rows = append(rep.Rows, UsageRow{Key: day.Format(time.DateOnly), Breakdown: storage.Breakdown{
				Requests: s.Requests, Errors: s.Errors.Total, Tokens: s.Tokens, CostUSD: s.CostUSD, UnknownPrice: s.UnknownPrice}})
			day = next
		}
	default:
		return UsageReport{}, fmt.Errorf("%w: by %q: want model, day or route", errBadQuery, by)
	}
	rep.Total.Key = "total"
	for _, r := range rep.Rows {
		rep.Total.Add(&r.Breakdown)
	}
	return rep, nil
}

// UsageHandler serves GET /_ferry/usage?since=7d&by=model|day|route.
func (h *Handlers) UsageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since := cmp.Or(q.Get("since"), "7d")
		span, err := ParseSpan(since)
		if err != nil {
			h.fail(w, r, errors.Join(errBadQuery, err))
			return
		}
		rep, err := Usage(h.db, span, cmp.Or(q.Get("by"), ByModel), h.now(), h.loc)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rep.Since = since
		reply.JSON(w, rep)
	})
}

package usage

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
	"github.com/ferry-gateway/ferry/storage"
)

// SeriesJSON is the JSON of /_ferry/series.
type SeriesJSON struct {
	Window string          `json:"window"`
	StepS  int64           `json:"step_s"`
	Points []storage.Point `json:"points"`
}

// MaxSeriesPoints bounds points= of /_ferry/series.
const MaxSeriesPoints = 1440

// SeriesHandler serves GET /_ferry/series?window=24h&points=60: the
// window ending now cut into about that many steps (whole minutes, at
// least one), each with requests, errors by class, tokens, cost and
// latency percentiles, oldest first; or ?from=…&to=…&step=1m (RFC 3339
// times, whole minutes), the dashboard's own steps. It answers 404
// when the database has no series query.
func (h *Handlers) SeriesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src, ok := h.db.(SeriesSource)
		if !ok {
			reply.Error(w, http.StatusNotFound, "not_found_error", "this Ferry keeps no time series")
			return
		}
		q := r.URL.Query()
		if q.Has("from") || q.Has("to") || q.Has("step") {
			h.seriesBetween(w, r, src)
			return
		}
		window := cmp.Or(q.Get("window"), "24h")
		span, err := ParseSpan(window)
		if err != nil {
			h.fail(w, r, errors.Join(errBadQuery, err))
			return
		}
		points := 60
		if s := q.Get("points"); s != "" {
			if points, err = strconv.Atoi(s); err != nil || points <= 0 {
				h.fail(w, r, fmt.Errorf("%w: points %q: want a positive number", errBadQuery, s))
				return
			}
			points = min(points, MaxSeriesPoints)
		}
		step := max(time.Minute, (span/time.Duration(points)+time.Minute-1)/time.Minute*time.Minute)
		now := h.now()
		// Align to the step so that refreshing the chart does not shift
		// every bar.
		end := now.Truncate(step).Add(step)
		pts, err := src.Series(end.Add(-span), end, step)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		reply.JSON(w, SeriesJSON{Window: window, StepS: int64(step / time.Second), Points: pts})
	})
}

// seriesBetween serves /_ferry/series?from=…&to=…&step=…, at most
// MaxSeriesPoints steps.
func (h *Handlers) seriesBetween(w http.ResponseWriter, r *http.Request, src SeriesSource) {
	q := r.URL.Query()
	from, to, err := parseRange(q.Get("from"), q.Get("to"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	step, err := time.ParseDuration(q.Get("step"))
	if err != nil || step < time.Minute || step%time.Minute != 0 || to.Sub(from)/step > MaxSeriesPoints {
		h.fail(w, r, fmt.Errorf("%w: step %q: want whole minutes and at most %d steps", errBadQuery, q.Get("step"), MaxSeriesPoints))
		return
	}
	pts, err := src.Series(from, to, step)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reply.JSON(w, SeriesJSON{StepS: int64(step / time.Second), Points: pts})
}

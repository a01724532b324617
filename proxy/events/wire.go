package events

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// Gap is the name of the event Stream sends in place of events a reader
// missed (it fell too far behind, or resumed from an id the core no longer
// keeps, or from another run of the core). A reader that gets it refetches
// what it shows (the stats, the routes) instead of applying the events.
const Gap Kind = "gap"

// Wire is an event's JSON on the event stream (the data: line of
// GET /_ferry/events). Only the fields its kind names are set; it never
// carries request or response bodies, keys or key fingerprints.
type Wire struct {
	Time time.Time `json:"time"`
	// Route is the route concerned (route.*, request.finished's route is
	// in Request).
	Route string `json:"route,omitempty"`
	// Up is set for route.health, route.up and route.down.
	Up *bool `json:"up,omitempty"`
	// LatencyMS is the probe's total time (route.health, route.up).
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// Detail: the error (route.health, route.down, listen.failed), "auto"
	// (route.switched by Auto), "paused"/"running" (state.changed), the
	// settings key (settings.changed).
	Detail string `json:"detail,omitempty"`
	// Attrs are the figures of the spend guard's events (budget.*,
	// limit.hit, quota.alert, brake.*), for a notification in any
	// language; see each Kind.
	Attrs map[string]string `json:"attrs,omitempty"`
	// Request is set for request.finished.
	Request *Request `json:"request,omitempty"`
	// Missed is set for gap: how many events were left out, -1 when
	// unknown (an id from another run of the core).
	Missed int64 `json:"missed,omitempty"`
}

// Request is a finished request as the event stream shows it: the
// record's metadata without its bodies.
type Request struct {
	ID           uint64             `json:"id,omitempty"`
	Time         time.Time          `json:"time"`
	Method       string             `json:"method"`
	Path         string             `json:"path"`
	Model        string             `json:"model,omitempty"`
	Stream       bool               `json:"stream"`
	Status       int                `json:"status"`
	ErrorType    string             `json:"error_type,omitempty"`
	ErrorClass   storage.ErrorClass `json:"error_class,omitempty"`
	Route        string             `json:"route"`
	Client       string             `json:"client,omitempty"`
	RequestID    string             `json:"request_id,omitempty"`
	Tokens       storage.Tokens     `json:"tokens"`
	FirstTokenMS float64            `json:"first_token_ms,omitempty"`
	TotalMS      float64            `json:"total_ms"`
	CostUSD      float64            `json:"cost_usd"`
	PriceKnown   bool               `json:"price_known"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fromMS(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// Encode is e's data line on the stream.
func Encode(e Event) ([]byte, error) {
	w := Wire{Time: e.Time, Route: e.Route, Detail: e.Detail, Attrs: e.Attrs}
	switch e.Kind {
	case RouteHealth, RouteUp, RouteDown:
		up := e.Up
		w.Up = &up
	}
	if e.Latency > 0 {
		w.LatencyMS = ms(e.Latency)
	}
	if r := e.Record; r != nil {
		w.Request = &Request{
			ID: r.ID, Time: r.Time, Method: r.Method, Path: r.Path, Model: r.Model, Stream: r.Stream,
			Status: r.Status, ErrorType: r.ErrorType, ErrorClass: r.ErrorClass, Route: r.Route,
			Client: r.Client, RequestID: r.RequestID, Tokens: r.Tokens, FirstTokenMS: ms(r.FirstToken),
			TotalMS: ms(r.Total), CostUSD: r.CostUSD, PriceKnown: r.PriceKnown,
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Kind, err)
	}
	return b, nil
}

// Decode is the inverse of Encode for a reader of the stream (the window
// process): name is the event: line, data the data: line. A gap event
// decodes to an Event of Kind Gap with the missed count in Detail.
func Decode(name string, data []byte) (Event, error) {
	var w Wire
	if err := json.Unmarshal(data, &w); err != nil {
		return Event{}, fmt.Errorf("decode %s event: %w", name, err)
	}
	e := Event{Kind: Kind(name), Time: w.Time, Route: w.Route, Detail: w.Detail, Attrs: w.Attrs, Latency: fromMS(w.LatencyMS)}
	if w.Up != nil {
		e.Up = *w.Up
	}
	if e.Kind == Gap {
		e.Detail = fmt.Sprint(w.Missed)
	}
	if r := w.Request; r != nil {
		e.Record = &storage.Record{
			ID: r.ID, Time: r.Time, Method: r.Method, Path: r.Path, Model: r.Model, Stream: r.Stream,
			Status: r.Status, ErrorType: r.ErrorType, ErrorClass: r.ErrorClass, Route: r.Route,
			Client: r.Client, RequestID: r.RequestID, Tokens: r.Tokens, FirstToken: fromMS(r.FirstTokenMS),
			Total: fromMS(r.TotalMS), CostUSD: r.CostUSD, PriceKnown: r.PriceKnown,
		}
	}
	return e, nil
}

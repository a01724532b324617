package coreapi

import (
	"context"
	"time"
)

// Road is what the "Network" settings page needs of the routes beyond
// their health (issue 9): each route's options and breaker. Core embeds
// it; the road's knobs (retry.*, road.*) change through Knobs.
type Road interface {
	// RouteOptions lists every route's options and breaker, in display
	// order.
	RouteOptions(ctx context.Context) ([]RouteOptions, error)
	// SetRouteOption sets one option of a stored route (RouteHTTP,
	// RouteKeyShare, RouteRegion); "" resets it to its default. A bad
	// value is an error naming what is accepted; nothing is stored.
	SetRouteOption(ctx context.Context, route, key, value string) error
	// ForgetRoute clears what a route learnt from failures (HTTP/1.1,
	// classic key shares).
	ForgetRoute(ctx context.Context, route string) error
}

// The route options' keys (`ferry routes set NAME KEY=VALUE`).
const (
	RouteHTTP     = "http"          // auto, 1.1 or 2
	RouteKeyShare = "tls_key_share" // auto, classic or pq
	RouteRegion   = "region"        // a label of the exit region
)

// The route options' values.
var (
	RouteHTTPValues     = []string{"auto", "1.1", "2"}
	RouteKeyShareValues = []string{"auto", "classic", "pq"}
)

// Breaker states.
const (
	BreakerClosed   = "closed"
	BreakerOpen     = "open"      // 3 road failures in a row: skipped while another route exists
	BreakerHalfOpen = "half_open" // a probe succeeded; the next request decides
)

// RouteOptions is one route's options and breaker.
type RouteOptions struct {
	Name string
	// Via is the --via route of this run: its options cannot be set.
	Via      bool
	Breaker  string
	HTTP     string // one of RouteHTTPValues
	KeyShare string // one of RouteKeyShareValues
	Region   string
	// LearntHTTP1: HTTP/2 failed on this route with protocol errors, so
	// it speaks HTTP/1.1. LearntClassicSince: a post-quantum handshake
	// was reset, so it offers classic key shares since then.
	LearntHTTP1        bool
	LearntClassicSince time.Time
	// Warm: a connection to the API host is open ahead of need.
	Warm bool
}

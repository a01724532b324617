// Package coreapi is what the windows need of Ferry's core: the Core
// interface and the plain values it returns. The window process
// implements it over the admin API (ui/adminclient); package ui's windows
// are written against it and tested on a fake. It knows nothing of Fyne.
package coreapi

import (
	"context"
	"io"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/storage"
)

// AutoChoice is the route choice meaning "the healthy route with the lowest
// probed latency".
const AutoChoice = "auto"

// Core is everything the desktop app needs from Ferry's core. main adapts
// the real parts (proxy.Proxy, route.Manager, storage.DB, usage.Prices) to
// it; tests use a fake.
//
// Calls come from the Fyne main goroutine (menu and button callbacks) and
// from the UI's own goroutines (refreshers). Quick getters (Paused, BaseURL,
// LocalToken, APIKeyMasked, Routes, Choice, Settings, DataDir) must not do
// network I/O and should return at once: the tray menu is built from them.
// Methods taking a context may do I/O (probes, database reads) and must
// honour its deadline.
type Core interface {
	// The spend guard, the settings registry and the road's options, each
	// in a file of its own.
	SpendGuard
	Knobs
	Road

	// Paused reports whether the proxy is paused (answering every API
	// request with an Anthropic-shaped 503) rather than forwarding.
	Paused() bool
	// Pause makes the proxy answer 503 to new requests; streams already in
	// flight finish. Publishes events.StateChanged.
	Pause() error
	// Resume undoes Pause. Publishes events.StateChanged.
	Resume() error

	// BaseURL is what clients put in ANTHROPIC_BASE_URL, e.g.
	// "http://127.0.0.1:7856" (no trailing slash).
	BaseURL() string
	// LocalToken is the token clients send as their API key to Ferry
	// (x-api-key or Authorization: Bearer) when Ferry holds the real key.
	LocalToken() string
	// RegenerateLocalToken replaces the local token with a new random one,
	// persists it and returns it; the old one stops working at once.
	RegenerateLocalToken() (string, error)
	// APIKeyMasked is the Anthropic API key Ferry holds, masked so it can
	// be shown ("sk-ant-…a1b2"), or "" when Ferry holds no key. The full
	// key never reaches the UI.
	APIKeyMasked() string
	// SetAPIKey stores the Anthropic API key (OS keychain where there is
	// one, else the 0600 database). The key is validated for shape only.
	SetAPIKey(key string) error
	// ClearAPIKey forgets the stored API key; clients must then send their
	// own.
	ClearAPIKey() error

	// Routes lists every route in display order (stored routes, then the
	// --via route of this run) with its latest health. It never probes.
	Routes() []RouteStatus
	// Choice is the current choice: a route name or AutoChoice.
	Choice() string
	// UseRoute makes the named route serve the next request (streams in
	// flight keep theirs) and persists the choice.
	UseRoute(name string) error
	// UseAuto sets the choice to AutoChoice and persists it.
	UseAuto() error
	// AddRoute stores a new named route; url is "direct", socks5://…,
	// http://… or https://… with optional user:password@. The error says
	// what is wrong with the URL or that the name is taken.
	AddRoute(name, url string) error
	// UpdateRoute replaces the route called oldName by (name, url); a
	// rename keeps the choice pointing at it. An empty url keeps the stored
	// URL (the UI only ever sees it masked).
	UpdateRoute(oldName, name, url string) error
	// RemoveRoute deletes a stored route; if it was the choice, the choice
	// becomes AutoChoice.
	RemoveRoute(name string) error
	// TestRoute probes one route now (TCP connect, proxy handshake, TLS
	// with the API host, each timed), updates its health and returns the
	// result. The error is for "no such route"; a failed probe is a Probe
	// with Up false and Err set.
	TestRoute(ctx context.Context, name string) (Probe, error)
	// TestAllRoutes probes every route now; results arrive as
	// events.RouteHealth and in Routes().
	TestAllRoutes(ctx context.Context) error

	// Stats summarises the usage records with from <= Time < to, plus the
	// spend of today and of this month (local time) whatever the window,
	// and the latest rate-limit headers seen.
	Stats(ctx context.Context, from, to time.Time) (Stats, error)
	// Series returns one point per step from from (inclusive) to to
	// (exclusive), oldest first, including empty steps (zero values).
	Series(ctx context.Context, from, to time.Time, step time.Duration) ([]SeriesPoint, error)
	// Recent returns up to limit records, newest first.
	Recent(ctx context.Context, limit int) ([]storage.Record, error)
	// ExportCSV writes the usage records with from <= Time < to to w as
	// CSV with a header line.
	ExportCSV(ctx context.Context, w io.Writer, from, to time.Time) error

	// Prices lists the price table in display order.
	Prices() ([]PriceRow, error)
	// SetPrice adds or replaces the row with the same Model and From.
	SetPrice(p PriceRow) error
	// ResetPrices restores the built-in price table.
	ResetPrices() error

	// Settings returns the user-changeable settings.
	Settings() (Settings, error)
	// SetSettings stores s. A changed Listen address takes effect at the
	// next start (the UI says so); the rest at once. Publishes
	// events.SettingsChanged.
	SetSettings(s Settings) error
	// DataDir is the folder holding Ferry's database and runtime files.
	DataDir() string

	// Subscribe returns a channel of core events and a cancel function that
	// closes it (events.Bus.Subscribe). The core never blocks on it: when
	// the buffer is full, events are dropped.
	Subscribe(buf int) (<-chan events.Event, func())

	// Content: the dedup cache and the filter lists (content.go).
	Content
}

// RouteStatus is one route with its latest health.
type RouteStatus struct {
	Name string
	// URL is the route's URL with credentials masked
	// (socks5://alice:***@127.0.0.1:1080), or "direct".
	URL string
	// Via is true for the --via route of this run, which is not
	// stored and cannot be edited or removed.
	Via bool
	// Checked is false until the route has been probed once; Up and
	// Latency mean nothing before.
	Checked bool
	Up      bool
	// Latency is the total time of the last successful probe.
	Latency time.Duration
	// Err is the last probe's error, "" when it succeeded.
	Err string
	// History is the latency of recent probes, oldest first; 0 means that
	// probe failed. The dashboard draws it as a sparkline.
	History []time.Duration
	// Current is true for the route serving the next request: the chosen
	// route, or the one Auto picked.
	Current bool
}

// Probe is the timed result of probing one route.
type Probe struct {
	Route string
	Up    bool
	// Connect is the TCP connect to the proxy (or to the API host for a
	// direct route); Handshake the proxy handshake (SOCKS5 or CONNECT, 0
	// for direct); TLS the TLS handshake with the API host; Latency the
	// whole probe.
	Connect, Handshake, TLS, Latency time.Duration
	Err                              string
	Checked                          time.Time
}

// Percentiles are latency percentiles.
type Percentiles struct {
	P50, P95, P99 time.Duration
}

// Breakdown is one row of a per-model or per-route summary.
type Breakdown struct {
	Name     string
	Requests int64
	Errors   int64
	Tokens   storage.Tokens
	CostUSD  float64
}

// Headroom is the latest anthropic-ratelimit-* headers seen, for the
// "headroom" figures. A zero Limit means the header was absent.
type Headroom struct {
	RequestsLimit, RequestsRemaining         int64
	TokensLimit, TokensRemaining             int64
	InputTokensLimit, InputTokensRemaining   int64
	OutputTokensLimit, OutputTokensRemaining int64
	// Reset is the earliest reset time announced; Seen when the headers
	// were read (zero when never).
	Reset, Seen time.Time
}

// Stats summarises a window of usage records.
type Stats struct {
	From, To time.Time
	// Requests counts every record; Errors those with an ErrorClass.
	Requests, Errors int64
	ErrorsByClass    map[storage.ErrorClass]int64
	ErrorsByType     map[string]int64
	// FirstToken is time to first content delta (streams only); Total is
	// the whole exchange.
	FirstToken, Total Percentiles
	Tokens            storage.Tokens
	CostUSD           float64
	// SpendToday and SpendMonth are in local time, independent of the
	// window.
	SpendToday, SpendMonth float64
	RequestsToday          int64
	ByModel, ByRoute       []Breakdown
	Headroom               Headroom
	// CacheHits and Coalesced count requests answered by the dedup cache
	// or shared with an identical one in flight; SavedUSD and SavedTokens
	// what that saved. FilterHits counts filter-list matches by list.
	CacheHits, Coalesced int64
	SavedUSD             float64
	SavedTokens          int64
	FilterHits           map[string]int64
}

// SuccessRate is the share of requests without an error class, 0..1; it is
// 1 when there were no requests.
func (s Stats) SuccessRate() float64 {
	if s.Requests == 0 {
		return 1
	}
	return float64(s.Requests-s.Errors) / float64(s.Requests)
}

// SeriesPoint is one step of a time series.
type SeriesPoint struct {
	Time          time.Time // start of the step
	Requests      int64
	ErrorsByClass map[storage.ErrorClass]int64
	Tokens        storage.Tokens
	CostUSD       float64
	// Latency percentiles over the step's requests; zero when none.
	FirstToken, Total Percentiles
	// FilterHits counts filter-list matches by list.
	FilterHits map[string]int64
}

// PriceRow is one row of the price table, in US dollars per million tokens.
type PriceRow struct {
	// Model is the model or family the row matches, e.g. "claude-sonnet-4-5".
	Model string
	// From is the effective date, "2006-01-02"; "" for always.
	From         string
	Input        float64
	Output       float64
	CacheWrite5m float64
	CacheWrite1h float64
	CacheRead    float64
	// Custom is true for rows the user set (not built-in).
	Custom bool
}

// Settings are the settings the user can change in the settings window.
type Settings struct {
	// Listen is the proxy's listen address, "127.0.0.1:7856".
	Listen string
	// RetentionDays is how long usage records are kept; 0 keeps them
	// forever.
	RetentionDays int
	// StoreBodies keeps request and response bodies with each record.
	StoreBodies bool
	// Language is "system", "en" or "zh-CN"; it is applied at start (see
	// ApplyLanguage).
	Language string
}

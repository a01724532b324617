package ui

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/storage"
)

// fakeCore is an in-memory Core for the UI tests. It records every call
// that changes something, so tests can check that edits reach the core.
type fakeCore struct {
	mu         sync.Mutex
	statsCalls atomic.Int64 // dashboard fetches
	paused     bool
	baseURL    string
	token      string
	apiKey     string
	routes     []RouteStatus
	rawURLs    map[string]string
	choice     string
	stats      Stats
	series     []SeriesPoint
	records    []storage.Record
	prices     []PriceRow
	settings   Settings
	dataDir    string
	calls      []string
	bus        events.Bus
	probe      Probe
	guard      fakeGuard   // fakeguard_test.go
	content    fakeContent // fakecontent_test.go
}

func newFakeCore() *fakeCore {
	now := time.Date(2026, 11, 25, 14, 30, 0, 0, time.Local)
	c := &fakeCore{
		baseURL: "http://127.0.0.1:7856",
		token:   "sk-ferry-0123456789abcdef0123456789abcdef0123456789abcdef",
		apiKey:  "sk-ant-api03-secretsecretsecret-a1b2",
		routes: []RouteStatus{
			{Name: "Office SOCKS", URL: "socks5://alice:***@10.0.0.2:1080", Checked: true, Up: true, Latency: 182 * time.Millisecond, History: []time.Duration{170 * time.Millisecond, 0, 190 * time.Millisecond, 182 * time.Millisecond}, Current: true},
			{Name: "Direct", URL: "direct", Checked: true, Up: false, Err: "dial tcp: i/o timeout", History: []time.Duration{0, 0}},
		},
		rawURLs:  map[string]string{"Office SOCKS": "socks5://alice:pw@10.0.0.2:1080", "Direct": "direct"},
		choice:   "Office SOCKS",
		settings: Settings{Listen: "127.0.0.1:7856", RetentionDays: 90, Language: LanguageSystem},
		dataDir:  "/tmp/ferry-data",
		prices: []PriceRow{
			{Model: "claude-sonnet-4-5", From: "2025-09-29", Input: 3, CacheWrite5m: 3.75, CacheWrite1h: 6, CacheRead: 0.3, Output: 15},
			{Model: "claude-haiku-4-5", Input: 1, CacheWrite5m: 1.25, CacheWrite1h: 2, CacheRead: 0.1, Output: 5},
		},
		probe: Probe{Up: true, Connect: 12 * time.Millisecond, Handshake: 30 * time.Millisecond, TLS: 80 * time.Millisecond, Latency: 122 * time.Millisecond},
	}
	c.stats = Stats{
		Requests: 120, Errors: 6,
		ErrorsByClass: map[storage.ErrorClass]int64{storage.ClassUpstream5xx: 4, storage.ClassNetwork: 2},
		FirstToken:    Percentiles{P50: 800 * time.Millisecond, P95: 2 * time.Second, P99: 3 * time.Second},
		Total:         Percentiles{P50: 4 * time.Second, P95: 9 * time.Second, P99: 12 * time.Second},
		Tokens:        storage.Tokens{Input: 1000, Output: 5000, CacheRead: 90000},
		CostUSD:       1.5, SpendToday: 2.345, SpendMonth: 41.5, RequestsToday: 321,
		ByModel:      []Breakdown{{Name: "claude-haiku-4-5", Requests: 20, Errors: 1, CostUSD: 0.1}, {Name: "claude-sonnet-4-5", Requests: 100, Errors: 5, CostUSD: 1.4}},
		ByRoute:      []Breakdown{{Name: "Office SOCKS", Requests: 118, Errors: 4, CostUSD: 1.5}, {Name: "Direct", Requests: 2, Errors: 2}},
		ErrorsByType: map[string]int64{"overloaded_error": 4, "api_error": 2},
		Headroom:     Headroom{RequestsLimit: 50, RequestsRemaining: 45, TokensLimit: 2000000, TokensRemaining: 1200000, Seen: now, Reset: now.Add(time.Minute)},
	}
	for i := 0; i < 60; i++ {
		c.series = append(c.series, SeriesPoint{
			Time: now.Add(time.Duration(i-60) * time.Minute), Requests: int64(i % 7),
			ErrorsByClass: map[storage.ErrorClass]int64{storage.ClassUpstream5xx: int64(i % 2)},
			Tokens:        storage.Tokens{Input: int64(i * 10), Output: int64(i * 40), CacheRead: int64(i * 100)},
			CostUSD:       float64(i) / 100,
			FirstToken:    Percentiles{P50: time.Duration(i) * 10 * time.Millisecond, P95: time.Duration(i) * 20 * time.Millisecond, P99: time.Duration(i) * 30 * time.Millisecond},
			Total:         Percentiles{P50: time.Duration(i) * 50 * time.Millisecond, P95: time.Duration(i) * 80 * time.Millisecond, P99: time.Duration(i) * 90 * time.Millisecond},
		})
	}
	c.records = []storage.Record{
		{ID: 3, Time: now, Method: "POST", Path: "/v1/messages", Model: "claude-sonnet-4-5", Stream: true, Status: 200, Route: "Office SOCKS", Tokens: storage.Tokens{Input: 10, Output: 200, CacheRead: 5000}, Total: 4200 * time.Millisecond, CostUSD: 0.0045, PriceKnown: true, RequestID: "req_1"},
		{ID: 2, Time: now.Add(-time.Minute), Method: "POST", Path: "/v1/messages", Model: "claude-haiku-4-5", Status: 529, ErrorType: "overloaded_error", ErrorClass: storage.ClassUpstream5xx, Route: "Office SOCKS", Total: 900 * time.Millisecond},
		{ID: 1, Time: now.Add(-2 * time.Minute), Method: "POST", Path: "/v1/messages", Model: "claude-sonnet-4-5", Status: 502, ErrorType: "api_error", ErrorClass: storage.ClassNetwork, Route: "Direct", Total: 30 * time.Second},
	}
	c.guard = newFakeGuard(now)
	c.initContent()
	return c
}

func (c *fakeCore) record(format string, args ...any) {
	c.calls = append(c.calls, fmt.Sprintf(format, args...))
}

// Calls returns the recorded calls.
func (c *fakeCore) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

func (c *fakeCore) Paused() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.paused }
func (c *fakeCore) Pause() error {
	c.mu.Lock()
	c.paused = true
	c.record("Pause")
	c.mu.Unlock()
	c.bus.Publish(events.Event{Kind: events.StateChanged, Detail: "paused"})
	return nil
}
func (c *fakeCore) Resume() error {
	c.mu.Lock()
	c.paused = false
	c.record("Resume")
	c.mu.Unlock()
	c.bus.Publish(events.Event{Kind: events.StateChanged, Detail: "running"})
	return nil
}
func (c *fakeCore) BaseURL() string    { return c.baseURL }
func (c *fakeCore) LocalToken() string { c.mu.Lock(); defer c.mu.Unlock(); return c.token }
func (c *fakeCore) RegenerateLocalToken() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = "sk-ferry-ffffffffffffffffffffffffffffffffffffffffffffffff"
	c.record("RegenerateLocalToken")
	return c.token, nil
}
func (c *fakeCore) APIKeyMasked() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiKey == "" {
		return ""
	}
	return c.apiKey[:7] + "…" + c.apiKey[len(c.apiKey)-4:]
}
func (c *fakeCore) SetAPIKey(k string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apiKey = k
	c.record("SetAPIKey")
	return nil
}
func (c *fakeCore) ClearAPIKey() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apiKey = ""
	c.record("ClearAPIKey")
	return nil
}
func (c *fakeCore) Routes() []RouteStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.routes)
}
func (c *fakeCore) Choice() string { c.mu.Lock(); defer c.mu.Unlock(); return c.choice }
func (c *fakeCore) setActive(name string) {
	for i := range c.routes {
		c.routes[i].Current = c.routes[i].Name == name
	}
}
func (c *fakeCore) UseRoute(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.choice = name
	c.setActive(name)
	c.record("UseRoute %s", name)
	return nil
}
func (c *fakeCore) UseAuto() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.choice = AutoChoice
	c.record("UseAuto")
	return nil
}
func (c *fakeCore) AddRoute(name, url string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.routes {
		if r.Name == name {
			return fmt.Errorf("route %q exists", name)
		}
	}
	c.routes = append(c.routes, RouteStatus{Name: name, URL: url})
	c.rawURLs[name] = url
	c.record("AddRoute %s %s", name, url)
	return nil
}
func (c *fakeCore) UpdateRoute(old, name, url string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range c.routes {
		if r.Name == old {
			c.routes[i].Name = name
			if url != "" {
				c.routes[i].URL = url
			}
			c.record("UpdateRoute %s %s %s", old, name, url)
			return nil
		}
	}
	return fmt.Errorf("no route %q", old)
}
func (c *fakeCore) RemoveRoute(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.routes = slices.DeleteFunc(c.routes, func(r RouteStatus) bool { return r.Name == name })
	c.record("RemoveRoute %s", name)
	return nil
}
func (c *fakeCore) TestRoute(ctx context.Context, name string) (Probe, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("TestRoute %s", name)
	p := c.probe
	p.Route = name
	return p, nil
}
func (c *fakeCore) TestAllRoutes(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("TestAllRoutes")
	return nil
}
func (c *fakeCore) Stats(ctx context.Context, from, to time.Time) (Stats, error) {
	c.statsCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.From, s.To = from, to
	return s, nil
}
func (c *fakeCore) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]SeriesPoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.series), nil
}
func (c *fakeCore) Recent(ctx context.Context, limit int) ([]storage.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.records[:min(limit, len(c.records))]), nil
}
func (c *fakeCore) ExportCSV(ctx context.Context, w io.Writer, from, to time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("ExportCSV")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "model", "status"})
	for _, r := range c.records {
		_ = cw.Write([]string{strconv.FormatUint(r.ID, 10), r.Model, strconv.Itoa(r.Status)})
	}
	cw.Flush()
	return cw.Error()
}
func (c *fakeCore) Prices() ([]PriceRow, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.prices), nil
}
func (c *fakeCore) SetPrice(p PriceRow) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SetPrice %s %s %g/%g", p.Model, p.From, p.Input, p.Output)
	for i, r := range c.prices {
		if r.Model == p.Model && r.From == p.From {
			c.prices[i] = p
			return nil
		}
	}
	c.prices = append(c.prices, p)
	return nil
}
func (c *fakeCore) ResetPrices() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("ResetPrices")
	return nil
}
func (c *fakeCore) Settings() (Settings, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings, nil
}
func (c *fakeCore) SetSettings(s Settings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings = s
	c.record("SetSettings %+v", s)
	return nil
}
func (c *fakeCore) DataDir() string { return c.dataDir }
func (c *fakeCore) Subscribe(buf int) (<-chan events.Event, func()) {
	return c.bus.Subscribe(buf)
}

var _ Core = (*fakeCore)(nil)

// memAutostart is an in-memory Autostart.
type memAutostart struct {
	mu sync.Mutex
	on bool
}

func (m *memAutostart) Enabled() (bool, error) { m.mu.Lock(); defer m.mu.Unlock(); return m.on, nil }
func (m *memAutostart) SetEnabled(on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = on
	return nil
}

package adminclient

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

var _ coreapi.Core = (*Client)(nil)

// The JSON the admin API answers with (proxy/app, proxy/usage); only the
// fields the windows read.
type (
	statusJSON struct {
		Paused  bool   `json:"paused"`
		BaseURL string `json:"base_url"`
		DataDir string `json:"data_dir"`
	}
	configJSON struct {
		Key    string  `json:"key"`
		Value  string  `json:"value"`
		Stored *string `json:"stored"`
	}
	routeJSON struct {
		Name      string          `json:"name"`
		URL       string          `json:"url"`
		Current   bool            `json:"current"`
		Up        bool            `json:"up"`
		Latency   time.Duration   `json:"latency_ns"`
		Connect   time.Duration   `json:"connect_ns"`
		Handshake time.Duration   `json:"handshake_ns"`
		TLS       time.Duration   `json:"tls_ns"`
		Err       string          `json:"error"`
		Checked   time.Time       `json:"checked"`
		Temporary bool            `json:"temporary"`
		History   []time.Duration `json:"history_ns"`
	}
	routesJSON struct {
		Choice string      `json:"choice"`
		Routes []routeJSON `json:"routes"`
	}
	rateLimitJSON struct {
		Limit     int64     `json:"limit"`
		Remaining int64     `json:"remaining"`
		Reset     time.Time `json:"reset"`
		Seen      time.Time `json:"seen"`
	}
	statsJSON struct {
		From          time.Time                    `json:"from"`
		To            time.Time                    `json:"to"`
		Requests      uint64                       `json:"requests"`
		Errors        storage.ErrorCounts          `json:"errors"`
		LatencyMS     storage.Latency              `json:"latency_ms"`
		Tokens        storage.Tokens               `json:"tokens"`
		CostUSD       float64                      `json:"cost_usd"`
		SpendTodayUSD float64                      `json:"spend_today_usd"`
		RequestsToday uint64                       `json:"requests_today"`
		SpendMonthUSD float64                      `json:"spend_month_usd"`
		ByModel       map[string]storage.Breakdown `json:"by_model"`
		ByRoute       map[string]storage.Breakdown `json:"by_route"`
		RateLimit     map[string]rateLimitJSON     `json:"ratelimit"`
		cacheFiguresJSON
	}
	seriesJSON struct {
		Points []storage.Point `json:"points"`
	}
	requestJSON struct {
		ID         uint64         `json:"id"`
		Time       time.Time      `json:"time"`
		Method     string         `json:"method"`
		Path       string         `json:"path"`
		Model      string         `json:"model"`
		Stream     bool           `json:"stream"`
		Status     int            `json:"status"`
		ErrorType  string         `json:"error_type"`
		ErrorClass string         `json:"error_class"`
		Route      string         `json:"route"`
		Client     string         `json:"client"`
		RequestID  string         `json:"request_id"`
		CacheHit   bool           `json:"cache_hit"`
		Tokens     storage.Tokens `json:"tokens"`
		LatencyMS  struct {
			FirstByte  float64 `json:"first_byte"`
			FirstToken float64 `json:"first_token"`
			Total      float64 `json:"total"`
		} `json:"latency_ms"`
		TokensPerSec float64 `json:"tokens_per_sec"`
		CostUSD      float64 `json:"cost_usd"`
		PriceKnown   bool    `json:"price_known"`
		recordContentJSON
		recordRoadJSON // records.go
	}
	priceRowJSON struct {
		Model        string          `json:"model"`
		From         string          `json:"from,omitempty"`
		Input        float64         `json:"input"`
		CacheWrite5m float64         `json:"cache_write_5m"`
		CacheWrite1h float64         `json:"cache_write_1h"`
		CacheRead    float64         `json:"cache_read"`
		Output       float64         `json:"output"`
		Tiers        json.RawMessage `json:"tiers,omitempty"`
	}
	priceTableJSON struct {
		Rows   []priceRowJSON `json:"rows"`
		Custom []string       `json:"custom"`
	}
)

func (r priceRowJSON) key() string {
	if r.From == "" {
		return r.Model
	}
	return r.Model + "@" + r.From
}

func (c *Client) status() (statusJSON, error) {
	var st statusJSON
	err := c.quickDo(http.MethodGet, "/_ferry/status", nil, &st)
	return st, err
}

// Paused asks the core; a core that does not answer counts as running
// (the window then shows the error from its next call).
func (c *Client) Paused() bool {
	st, _ := c.status()
	return st.Paused
}

func (c *Client) Pause() error  { return c.quickDo(http.MethodPost, "/_ferry/pause", nil, nil) }
func (c *Client) Resume() error { return c.quickDo(http.MethodPost, "/_ferry/resume", nil, nil) }

func (c *Client) BaseURL() string {
	st, err := c.status()
	if err != nil {
		return c.base
	}
	return st.BaseURL
}

func (c *Client) LocalToken() string {
	var out struct {
		Token string `json:"token"`
	}
	_ = c.quickDo(http.MethodGet, "/_ferry/token", nil, &out)
	return out.Token
}

func (c *Client) RegenerateLocalToken() (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := c.quickDo(http.MethodPost, "/_ferry/token/regenerate", nil, &out)
	return out.Token, err
}

func (c *Client) APIKeyMasked() string {
	var out struct {
		Masked string `json:"masked"`
	}
	_ = c.quickDo(http.MethodGet, "/_ferry/key", nil, &out)
	return out.Masked
}

func (c *Client) SetAPIKey(key string) error {
	return c.quickDo(http.MethodPut, "/_ferry/key", strings.TrimSpace(key), nil)
}

func (c *Client) ClearAPIKey() error { return c.quickDo(http.MethodDelete, "/_ferry/key", nil, nil) }

func (c *Client) routes() (routesJSON, error) {
	var rs routesJSON
	err := c.quickDo(http.MethodGet, "/_ferry/routes", nil, &rs)
	return rs, err
}

func (c *Client) Routes() []coreapi.RouteStatus {
	rs, err := c.routes()
	if err != nil {
		return nil
	}
	out := make([]coreapi.RouteStatus, 0, len(rs.Routes))
	for _, r := range rs.Routes {
		out = append(out, coreapi.RouteStatus{
			Name: r.Name, URL: r.URL, Via: r.Temporary, Checked: !r.Checked.IsZero(), Up: r.Up,
			Latency: r.Latency, Err: r.Err, History: r.History, Current: r.Current,
		})
	}
	return out
}

func (c *Client) Choice() string {
	rs, err := c.routes()
	if err != nil {
		return coreapi.AutoChoice
	}
	return rs.Choice
}

func (c *Client) UseRoute(name string) error {
	return c.quickDo(http.MethodPost, "/_ferry/routes/use", map[string]string{"choice": name}, nil)
}

func (c *Client) UseAuto() error { return c.UseRoute(coreapi.AutoChoice) }

func (c *Client) AddRoute(name, rawURL string) error {
	return c.quickDo(http.MethodPost, "/_ferry/routes", map[string]string{"name": name, "url": rawURL}, nil)
}

func (c *Client) UpdateRoute(oldName, name, rawURL string) error {
	return c.quickDo(http.MethodPut, "/_ferry/routes", map[string]string{"old_name": oldName, "name": name, "url": rawURL}, nil)
}

func (c *Client) RemoveRoute(name string) error {
	return c.quickDo(http.MethodDelete, "/_ferry/routes?name="+url.QueryEscape(name), nil, nil)
}

// TestRoute probes the routes now (the core probes them together, as
// fast as one) and returns name's result.
func (c *Client) TestRoute(ctx context.Context, name string) (coreapi.Probe, error) {
	var rs routesJSON
	if err := c.do(ctx, http.MethodPost, "/_ferry/routes/test", nil, &rs); err != nil {
		return coreapi.Probe{}, err
	}
	for _, r := range rs.Routes {
		if r.Name == name {
			return coreapi.Probe{Route: r.Name, Up: r.Up, Connect: r.Connect, Handshake: r.Handshake, TLS: r.TLS,
				Latency: r.Latency, Err: r.Err, Checked: r.Checked}, nil
		}
	}
	return coreapi.Probe{}, fmt.Errorf("no route named %q", name)
}

func (c *Client) TestAllRoutes(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/_ferry/routes/test", nil, nil)
}

func percentiles(p storage.Percentiles) coreapi.Percentiles {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return coreapi.Percentiles{P50: ms(p.P50), P95: ms(p.P95), P99: ms(p.P99)}
}

func breakdowns(m map[string]storage.Breakdown) []coreapi.Breakdown {
	out := make([]coreapi.Breakdown, 0, len(m))
	for name, v := range m {
		out = append(out, coreapi.Breakdown{Name: name, Requests: int64(v.Requests), Errors: int64(v.Errors),
			Tokens: v.Tokens, CostUSD: v.CostUSD})
	}
	slices.SortFunc(out, func(a, b coreapi.Breakdown) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func classMap(m map[storage.ErrorClass]uint64) map[storage.ErrorClass]int64 {
	out := make(map[storage.ErrorClass]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

func headroom(s map[string]rateLimitJSON) coreapi.Headroom {
	var r coreapi.Headroom
	for name, l := range s {
		switch name {
		case "requests":
			r.RequestsLimit, r.RequestsRemaining = l.Limit, l.Remaining
		case "tokens":
			r.TokensLimit, r.TokensRemaining = l.Limit, l.Remaining
		case "input-tokens":
			r.InputTokensLimit, r.InputTokensRemaining = l.Limit, l.Remaining
		case "output-tokens":
			r.OutputTokensLimit, r.OutputTokensRemaining = l.Limit, l.Remaining
		default:
			continue
		}
		if !l.Reset.IsZero() && (r.Reset.IsZero() || l.Reset.Before(r.Reset)) {
			r.Reset = l.Reset
		}
		if l.Seen.After(r.Seen) {
			r.Seen = l.Seen
		}
	}
	return r
}

func (c *Client) Stats(ctx context.Context, from, to time.Time) (coreapi.Stats, error) {
	var s statsJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/stats?"+timeRange(from, to), nil, &s); err != nil {
		return coreapi.Stats{}, err
	}
	st := coreapi.Stats{
		From: s.From, To: s.To, Requests: int64(s.Requests), Errors: int64(s.Errors.Total),
		ErrorsByClass: classMap(s.Errors.ByClass), ErrorsByType: map[string]int64{},
		FirstToken: percentiles(s.LatencyMS.FirstToken), Total: percentiles(s.LatencyMS.Total),
		Tokens: s.Tokens, CostUSD: s.CostUSD, SpendToday: s.SpendTodayUSD, SpendMonth: s.SpendMonthUSD,
		RequestsToday: int64(s.RequestsToday), ByModel: breakdowns(s.ByModel), ByRoute: breakdowns(s.ByRoute),
		Headroom: headroom(s.RateLimit),
	}
	s.cacheFiguresJSON.into(&st)
	for k, v := range s.Errors.ByType {
		st.ErrorsByType[k] = int64(v)
	}
	return st, nil
}

func (c *Client) Series(ctx context.Context, from, to time.Time, step time.Duration) ([]coreapi.SeriesPoint, error) {
	var s seriesJSON
	path := "/_ferry/series?" + timeRange(from, to) + "&step=" + url.QueryEscape(step.String())
	if err := c.do(ctx, http.MethodGet, path, nil, &s); err != nil {
		return nil, err
	}
	out := make([]coreapi.SeriesPoint, 0, len(s.Points))
	for _, p := range s.Points {
		out = append(out, coreapi.SeriesPoint{
			Time: p.Start, Requests: int64(p.Requests), ErrorsByClass: classMap(p.Errors),
			Tokens: p.Tokens, CostUSD: p.CostUSD,
			FirstToken: percentiles(p.LatencyMS.FirstToken), Total: percentiles(p.LatencyMS.Total),
			FilterHits: hitCounts(p.FilterHits),
		})
	}
	return out, nil
}

func (c *Client) Recent(ctx context.Context, limit int) ([]storage.Record, error) {
	var page struct {
		Records []requestJSON `json:"records"`
	}
	if err := c.do(ctx, http.MethodGet, "/_ferry/requests?limit="+strconv.Itoa(limit), nil, &page); err != nil {
		return nil, err
	}
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	out := make([]storage.Record, 0, len(page.Records))
	for _, r := range page.Records {
		out = append(out, storage.Record{
			ID: r.ID, Time: r.Time, Method: r.Method, Path: r.Path, Model: r.Model, Stream: r.Stream,
			Status: r.Status, ErrorType: r.ErrorType, ErrorClass: storage.ErrorClass(r.ErrorClass), Route: r.Route,
			Client: r.Client, RequestID: r.RequestID, CacheHit: r.CacheHit, Tokens: r.Tokens,
			FirstByte: ms(r.LatencyMS.FirstByte), FirstToken: ms(r.LatencyMS.FirstToken), Total: ms(r.LatencyMS.Total),
			TokensPerSec: r.TokensPerSec, CostUSD: r.CostUSD, PriceKnown: r.PriceKnown,
			Coalesced: r.Coalesced, SavedUSD: r.SavedUSD, SavedTokens: r.SavedTokens, FilterHits: r.FilterHits,
		})
		r.road(&out[len(out)-1])
	}
	return out, nil
}

func (c *Client) ExportCSV(ctx context.Context, w io.Writer, from, to time.Time) error {
	return c.do(ctx, http.MethodGet, "/_ferry/requests.csv?"+timeRange(from, to), nil, w)
}

func (c *Client) priceTable() (priceTableJSON, error) {
	var t priceTableJSON
	err := c.quickDo(http.MethodGet, "/_ferry/prices", nil, &t)
	return t, err
}

func (c *Client) Prices() ([]coreapi.PriceRow, error) {
	t, err := c.priceTable()
	if err != nil {
		return nil, err
	}
	out := make([]coreapi.PriceRow, 0, len(t.Rows))
	for _, r := range t.Rows {
		out = append(out, coreapi.PriceRow{Model: r.Model, From: r.From, Input: r.Input, Output: r.Output,
			CacheWrite5m: r.CacheWrite5m, CacheWrite1h: r.CacheWrite1h, CacheRead: r.CacheRead,
			Custom: slices.Contains(t.Custom, r.key())})
	}
	return out, nil
}

// SetPrice sets the row's base rates; the settings table does not show a
// row's long-prompt tiers, so the stored row's tiers are kept.
func (c *Client) SetPrice(p coreapi.PriceRow) error {
	row := priceRowJSON{Model: p.Model, From: p.From, Input: p.Input, Output: p.Output,
		CacheWrite5m: p.CacheWrite5m, CacheWrite1h: p.CacheWrite1h, CacheRead: p.CacheRead}
	t, err := c.priceTable()
	if err != nil {
		return err
	}
	for _, old := range t.Rows {
		if old.key() == row.key() {
			row.Tiers = old.Tiers
		}
	}
	return c.quickDo(http.MethodPut, "/_ferry/prices", row, nil)
}

func (c *Client) ResetPrices() error { return c.quickDo(http.MethodDelete, "/_ferry/prices", nil, nil) }

// The settings registry's keys the settings window changes (proxy/app's
// knobs; GET and PUT /_ferry/config/{key}).
const (
	keyListen      = "server.listen"
	keyRetention   = "history.retention"
	keyStoreBodies = "history.store_bodies"
	keyLanguage    = "ui.language"
)

func (c *Client) config() (map[string]configJSON, error) {
	var entries []configJSON
	if err := c.quickDo(http.MethodGet, "/_ferry/config", nil, &entries); err != nil {
		return nil, err
	}
	out := make(map[string]configJSON, len(entries))
	for _, e := range entries {
		out[e.Key] = e
	}
	return out, nil
}

// days reads a duration knob's text form ("90d", "36h", "0s") as whole
// days, rounded.
func days(text string) int {
	if n, ok := strings.CutSuffix(text, "d"); ok {
		if v, err := strconv.Atoi(n); err == nil {
			return v
		}
	}
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 {
		return 0
	}
	return int((d + 12*time.Hour) / (24 * time.Hour))
}

func (c *Client) Settings() (coreapi.Settings, error) {
	cfg, err := c.config()
	if err != nil {
		return coreapi.Settings{}, err
	}
	// The listen address shown is the one for the next start: the stored
	// one, else the one in effect.
	listen := cfg[keyListen].Value
	if st := cfg[keyListen].Stored; st != nil {
		listen = *st
	}
	return coreapi.Settings{
		Listen: listen, RetentionDays: days(cfg[keyRetention].Value),
		StoreBodies: cfg[keyStoreBodies].Value == "on", Language: cfg[keyLanguage].Value,
	}, nil
}

func (c *Client) setConfig(key, value string) error {
	return c.quickDo(http.MethodPut, "/_ferry/config/"+key, map[string]string{"value": value}, nil)
}

// SetSettings changes what differs from the settings in effect, each
// through its knob.
func (c *Client) SetSettings(s coreapi.Settings) error {
	cur, err := c.Settings()
	if err != nil {
		return err
	}
	if s.Listen != cur.Listen {
		if err := c.setConfig(keyListen, s.Listen); err != nil {
			return err
		}
	}
	if s.RetentionDays != cur.RetentionDays {
		ret := "0s"
		if s.RetentionDays > 0 {
			ret = strconv.Itoa(s.RetentionDays) + "d"
		}
		if err := c.setConfig(keyRetention, ret); err != nil {
			return err
		}
	}
	if s.StoreBodies != cur.StoreBodies {
		if err := c.setConfig(keyStoreBodies, strconv.FormatBool(s.StoreBodies)); err != nil {
			return err
		}
	}
	if s.Language != cur.Language {
		if err := c.setConfig(keyLanguage, s.Language); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) DataDir() string {
	st, _ := c.status()
	return st.DataDir
}

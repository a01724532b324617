package adminclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// coreapi.Content over the admin API: the cache's knobs through
// /_ferry/config, its figures through /_ferry/cache (proxy/cache's
// admin.go), the filter lists through /_ferry/filters (proxy/filter's
// admin.go, whose header lists the routes).

// The cache's knobs in the settings registry (proxy/cache/knobs.go).
const (
	keyCacheEnabled  = "cache.enabled"
	keyCacheTTL      = "cache.ttl"
	keyCacheCountTTL = "cache.count_tokens_ttl"
	keyCacheModelTTL = "cache.models_ttl"
	keyCacheMaxBytes = "cache.max_bytes"
)

type (
	// cacheFiguresJSON are the cache's fields of /_ferry/stats.
	cacheFiguresJSON struct {
		CacheHits   uint64            `json:"cache_hits"`
		Coalesced   uint64            `json:"coalesced"`
		SavedUSD    float64           `json:"saved_usd"`
		SavedTokens uint64            `json:"saved_tokens"`
		FilterHits  map[string]uint64 `json:"filter_hits"`
	}
	// recordContentJSON are the cache's and filters' fields of a record
	// of /_ferry/requests.
	recordContentJSON struct {
		Coalesced   bool                `json:"coalesced"`
		SavedUSD    float64             `json:"saved_usd"`
		SavedTokens int64               `json:"saved_tokens"`
		FilterHits  []storage.FilterHit `json:"filter_hits"`
	}
	cachePeriodJSON struct {
		Requests    uint64  `json:"requests"`
		Hits        uint64  `json:"hits"`
		Coalesced   uint64  `json:"coalesced"`
		SavedUSD    float64 `json:"saved_usd"`
		SavedTokens uint64  `json:"saved_tokens"`
	}
	cacheStatsJSON struct {
		Enabled bool               `json:"enabled"`
		On      bool               `json:"on"`
		Off     string             `json:"off"`
		Store   storage.CacheStats `json:"store"`
		Today   cachePeriodJSON    `json:"today"`
		Month   cachePeriodJSON    `json:"month"`
	}
	filterEntryJSON struct {
		Pattern  string `json:"pattern"`
		Regex    bool   `json:"regex,omitempty"`
		Action   string `json:"action,omitempty"`
		Scope    string `json:"scope,omitempty"`
		MaxLen   int    `json:"max_len,omitempty"`
		Disabled bool   `json:"disabled,omitempty"`
		Name     string `json:"name,omitempty"`
		Note     string `json:"note,omitempty"`
	}
	filterListJSON struct {
		Name         string            `json:"name"`
		Enabled      bool              `json:"enabled"`
		Builtin      bool              `json:"builtin"`
		RequestMode  string            `json:"request_mode"`
		ResponseMode string            `json:"response_mode"`
		Entries      []filterEntryJSON `json:"entries"`
	}
	// filterSummaryJSON is a list as GET /_ferry/filters shows it.
	filterSummaryJSON struct {
		Name         string `json:"name"`
		Enabled      bool   `json:"enabled"`
		Builtin      bool   `json:"builtin"`
		RequestMode  string `json:"request_mode"`
		ResponseMode string `json:"response_mode"`
		Entries      int    `json:"entries"`
		Off          int    `json:"entries_off"`
	}
)

func (f cacheFiguresJSON) into(st *coreapi.Stats) {
	st.CacheHits, st.Coalesced = int64(f.CacheHits), int64(f.Coalesced)
	st.SavedUSD, st.SavedTokens = f.SavedUSD, int64(f.SavedTokens)
	st.FilterHits = hitCounts(f.FilterHits)
}

// hitCounts converts filter hits by list; nil stays nil.
func hitCounts(m map[string]uint64) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

func (c *Client) CacheSettings() (coreapi.CacheSettings, error) {
	cfg, err := c.config()
	if err != nil {
		return coreapi.CacheSettings{}, err
	}
	s := coreapi.CacheSettings{Enabled: cfg[keyCacheEnabled].Value == "on"}
	for key, dst := range cacheTTLs(&s) {
		if *dst, err = parseDuration(cfg[key].Value); err != nil {
			return coreapi.CacheSettings{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if s.MaxBytes, err = parseSize(cfg[keyCacheMaxBytes].Value); err != nil {
		return coreapi.CacheSettings{}, fmt.Errorf("%s: %w", keyCacheMaxBytes, err)
	}
	return s, nil
}

// cacheTTLs are the TTL fields of s by their knobs.
func cacheTTLs(s *coreapi.CacheSettings) map[string]*time.Duration {
	return map[string]*time.Duration{keyCacheTTL: &s.TTL, keyCacheCountTTL: &s.CountTokensTTL, keyCacheModelTTL: &s.ModelsTTL}
}

// SetCacheSettings changes what differs, each through its knob; the core
// checks each value against the knob's range.
func (c *Client) SetCacheSettings(s coreapi.CacheSettings) error {
	cur, err := c.CacheSettings()
	if err != nil {
		return err
	}
	want := cacheTTLs(&s)
	for key, old := range cacheTTLs(&cur) {
		if d := *want[key]; d != *old {
			if err := c.setConfig(key, d.String()); err != nil {
				return err
			}
		}
	}
	if s.MaxBytes != cur.MaxBytes {
		if err := c.setConfig(keyCacheMaxBytes, strconv.FormatInt(s.MaxBytes, 10)+"B"); err != nil {
			return err
		}
	}
	if s.Enabled != cur.Enabled {
		if err := c.setConfig(keyCacheEnabled, strconv.FormatBool(s.Enabled)); err != nil {
			return err
		}
	}
	return nil
}

// parseDuration reads a duration knob's text: a Go duration or days
// ("30d"), as proxy/settings writes them.
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("duration %q", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(s)
}

// sizeUnits are the units proxy/settings writes a size knob in.
var sizeUnits = map[string]int64{
	"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// parseSize reads a size knob's text: a whole number and a unit
// ("256MiB", "1500B").
func parseSize(s string) (int64, error) {
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 0, fmt.Errorf("size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	mult, ok := sizeUnits[strings.TrimSpace(s[i:])]
	if err != nil || !ok {
		return 0, fmt.Errorf("size %q", s)
	}
	return n * mult, nil
}

func cachePeriod(p cachePeriodJSON) coreapi.CachePeriod {
	return coreapi.CachePeriod{Requests: int64(p.Requests), Hits: int64(p.Hits), Coalesced: int64(p.Coalesced),
		SavedUSD: p.SavedUSD, SavedTokens: int64(p.SavedTokens)}
}

func (c *Client) CacheStats(ctx context.Context) (coreapi.CacheStats, error) {
	var s cacheStatsJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/cache", nil, &s); err != nil {
		return coreapi.CacheStats{}, err
	}
	return coreapi.CacheStats{
		Enabled: s.Enabled, On: s.On, Off: s.Off, Entries: s.Store.Entries,
		Bytes: s.Store.Bytes, FileBytes: s.Store.FileBytes, MaxBytes: s.Store.MaxBytes,
		Today: cachePeriod(s.Today), Month: cachePeriod(s.Month),
	}, nil
}

func (c *Client) ClearCache(ctx context.Context) (int, error) {
	var out struct {
		Cleared int `json:"cleared"`
	}
	err := c.do(ctx, http.MethodPost, "/_ferry/cache/clear", nil, &out)
	return out.Cleared, err
}

func filterList(l filterListJSON) coreapi.FilterList {
	out := coreapi.FilterList{Name: l.Name, Enabled: l.Enabled, Builtin: l.Builtin,
		RequestMode: l.RequestMode, ResponseMode: l.ResponseMode, Count: len(l.Entries), Entries: []coreapi.FilterEntry{}}
	for _, e := range l.Entries {
		out.Entries = append(out.Entries, coreapi.FilterEntry{Pattern: e.Pattern, Regex: e.Regex, Action: e.Action,
			Scope: e.Scope, MaxLen: e.MaxLen, Disabled: e.Disabled, Name: e.Name, Note: e.Note})
		if e.Disabled {
			out.Off++
		}
	}
	return out
}

func (c *Client) FilterLists(ctx context.Context) ([]coreapi.FilterList, error) {
	var page struct {
		Lists []filterSummaryJSON `json:"lists"`
	}
	if err := c.do(ctx, http.MethodGet, "/_ferry/filters", nil, &page); err != nil {
		return nil, err
	}
	out := make([]coreapi.FilterList, 0, len(page.Lists))
	for _, l := range page.Lists {
		out = append(out, coreapi.FilterList{Name: l.Name, Enabled: l.Enabled, Builtin: l.Builtin,
			RequestMode: l.RequestMode, ResponseMode: l.ResponseMode, Count: l.Entries, Off: l.Off})
	}
	return out, nil
}

// listPath is the admin path of a list (names are letters, digits, '_',
// '.' and '-', but a mistyped one must not change the path).
func listPath(name string) string { return "/_ferry/filters/" + url.PathEscape(name) }

func (c *Client) FilterList(ctx context.Context, name string) (coreapi.FilterList, error) {
	var l filterListJSON
	if err := c.do(ctx, http.MethodGet, listPath(name), nil, &l); err != nil {
		return coreapi.FilterList{}, err
	}
	return filterList(l), nil
}

func (c *Client) SetFilterListEnabled(name string, on bool) error {
	return c.quickDo(http.MethodPost, listPath(name)+"/"+onOff(on), nil, nil)
}

func (c *Client) SetFilterEntryEnabled(name string, entry int, on bool) error {
	return c.quickDo(http.MethodPost, listPath(name)+"/"+onOff(on)+"?entry="+strconv.Itoa(entry), nil, nil)
}

func onOff(on bool) string {
	if on {
		return "enable"
	}
	return "disable"
}

func (c *Client) SetFilterMode(name, request, response string) error {
	return c.quickDo(http.MethodPost, listPath(name)+"/mode", map[string]string{"request": request, "response": response}, nil)
}

func (c *Client) AddFilterEntry(name string, e coreapi.FilterEntry) (int, error) {
	in := filterEntryJSON{Pattern: e.Pattern, Regex: e.Regex, Action: e.Action, Scope: e.Scope, MaxLen: e.MaxLen}
	var out struct {
		Entry int `json:"entry"`
	}
	err := c.quickDo(http.MethodPost, listPath(name)+"/entries", in, &out)
	return out.Entry, err
}

func (c *Client) RemoveFilterEntry(name string, n int) error {
	return c.quickDo(http.MethodDelete, listPath(name)+"/entries/"+strconv.Itoa(n), nil, nil)
}

func (c *Client) DeleteFilterList(name string) error {
	return c.quickDo(http.MethodDelete, listPath(name), nil, nil)
}

func (c *Client) ImportFilterList(ctx context.Context, name string, text []byte, replace bool) (int, error) {
	path := listPath(name) + "/import"
	if replace {
		path += "?replace=1"
	}
	var out struct {
		Entries int `json:"entries"`
	}
	err := c.do(ctx, http.MethodPut, path, text, &out)
	return out.Entries, err
}

func (c *Client) ExportFilterList(ctx context.Context, name string, w io.Writer) error {
	return c.do(ctx, http.MethodGet, listPath(name)+"/export", nil, w)
}

func (c *Client) TestFilters(ctx context.Context, text string) (coreapi.FilterTest, error) {
	var res struct {
		Text string `json:"text"`
		Hits []struct {
			List   string `json:"list"`
			Entry  int    `json:"entry"`
			Rule   string `json:"rule"`
			Action string `json:"action"`
			Count  int    `json:"count"`
		} `json:"hits"`
		Blocked string `json:"blocked"`
	}
	// Sent as raw bytes: the core scans the body as it is.
	if err := c.do(ctx, http.MethodPost, "/_ferry/filters/test", []byte(text), &res); err != nil {
		return coreapi.FilterTest{}, err
	}
	out := coreapi.FilterTest{Text: res.Text, Blocked: res.Blocked}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, coreapi.FilterTestHit{List: h.List, Entry: h.Entry, Rule: h.Rule, Action: h.Action, Count: h.Count})
	}
	return out, nil
}

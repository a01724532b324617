package ui

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// fakeContent is the fake core's dedup cache and filter lists
// (coreapi.Content), guarded by fakeCore.mu.
type fakeContent struct {
	cache      CacheSettings
	cacheStats CacheStats
	lists      []FilterList
}

// initContent fills the fake's cache and filters, and the cache and filter
// figures of its stats and records.
func (c *fakeCore) initContent() {
	c.content = fakeContent{
		cache: CacheSettings{Enabled: true, TTL: 10 * time.Minute, CountTokensTTL: time.Hour, ModelsTTL: 10 * time.Minute, MaxBytes: 256 << 20},
		cacheStats: CacheStats{Enabled: true, On: true, Entries: 42, Bytes: 3 << 20, FileBytes: 4 << 20, MaxBytes: 256 << 20,
			Today: CachePeriod{Requests: 200, Hits: 30, Coalesced: 10, SavedUSD: 1.25, SavedTokens: 480000},
			Month: CachePeriod{Requests: 4000, Hits: 600, Coalesced: 200, SavedUSD: 31.5, SavedTokens: 9600000}},
		lists: []FilterList{
			{Name: "secrets", Enabled: true, Builtin: true, RequestMode: coreapi.FilterRedact, ResponseMode: coreapi.FilterFlag, Entries: []FilterEntry{
				{Pattern: `sk-ant-…`, Regex: true, Name: "anthropic-key", Note: "Anthropic API keys"},
				{Pattern: `ghp_…`, Regex: true, Name: "github-token", Note: "GitHub tokens"},
			}},
			{Name: "zh-words", Enabled: true, Entries: []FilterEntry{{Pattern: "机密"}, {Pattern: "内部", Action: coreapi.FilterBlock}}},
		},
	}
	c.stats.CacheHits, c.stats.Coalesced, c.stats.SavedUSD, c.stats.SavedTokens = 12, 3, 0.75, 250000
	c.stats.FilterHits = map[string]int64{"secrets": 5, "zh-words": 2}
	c.records[0].FilterHits = []storage.FilterHit{{List: "secrets", Entry: "2 github-token", Action: "redact", Count: 2}}
	c.records[1].CacheHit, c.records[1].SavedUSD, c.records[1].SavedTokens = true, 0.02, 5200
	for i := range c.series {
		if i%10 == 0 {
			c.series[i].FilterHits = map[string]int64{"secrets": 1}
		}
	}
	c.series[55].FilterHits = map[string]int64{"zh-words": 2}
}

func (c *fakeCore) CacheSettings() (CacheSettings, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.content.cache, nil
}

func (c *fakeCore) SetCacheSettings(s CacheSettings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("SetCacheSettings %v %s %s %s %d", s.Enabled, s.TTL, s.CountTokensTTL, s.ModelsTTL, s.MaxBytes)
	c.content.cache = s
	c.content.cacheStats.Enabled, c.content.cacheStats.MaxBytes = s.Enabled, s.MaxBytes
	return nil
}

func (c *fakeCore) CacheStats(ctx context.Context) (CacheStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.content.cacheStats, nil
}

func (c *fakeCore) ClearCache(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record("ClearCache")
	n := c.content.cacheStats.Entries
	c.content.cacheStats.Entries, c.content.cacheStats.Bytes = 0, 0
	return n, nil
}

func (c *fakeCore) list(name string) (*FilterList, error) {
	for i := range c.content.lists {
		if c.content.lists[i].Name == name {
			return &c.content.lists[i], nil
		}
	}
	return nil, fmt.Errorf("no filter list %q", name)
}

// summary is l as FilterLists returns it: counts, no entries.
func summary(l FilterList) FilterList {
	l.Count, l.Off = len(l.Entries), 0
	for _, e := range l.Entries {
		if e.Disabled {
			l.Off++
		}
	}
	l.Entries = nil
	return l
}

func (c *fakeCore) FilterLists(ctx context.Context) ([]FilterList, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []FilterList
	for _, l := range c.content.lists {
		out = append(out, summary(l))
	}
	return out, nil
}

func (c *fakeCore) FilterList(ctx context.Context, name string) (FilterList, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return FilterList{}, err
	}
	out := *l
	out.Count = len(l.Entries)
	out.Entries = slices.Clone(l.Entries)
	return out, nil
}

func (c *fakeCore) SetFilterListEnabled(name string, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return err
	}
	c.record("SetFilterListEnabled %s %v", name, on)
	l.Enabled = on
	return nil
}

func (c *fakeCore) SetFilterEntryEnabled(name string, entry int, on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return err
	}
	if entry < 1 || entry > len(l.Entries) {
		return fmt.Errorf("%s has %d entries", name, len(l.Entries))
	}
	c.record("SetFilterEntryEnabled %s %d %v", name, entry, on)
	l.Entries[entry-1].Disabled = !on
	return nil
}

func (c *fakeCore) SetFilterMode(name, request, response string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return err
	}
	c.record("SetFilterMode %s %s %s", name, request, response)
	for _, p := range []struct {
		in  string
		dst *string
	}{{request, &l.RequestMode}, {response, &l.ResponseMode}} {
		switch p.in {
		case "":
		case coreapi.FilterByEntry:
			*p.dst = ""
		default:
			*p.dst = p.in
		}
	}
	return nil
}

// AddFilterEntry validates as the core does where the page relies on it:
// a regex must compile (the RE2 error is the message), a list name is
// letters, digits, '_', '.', '-'.
func (c *fakeCore) AddFilterEntry(name string, e FilterEntry) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.ContainsAny(name, " /") || name == "" {
		return 0, fmt.Errorf("list name %q: 1 to 64 letters, digits, '_', '.' or '-'", name)
	}
	if e.Regex {
		if _, err := regexp.Compile(e.Pattern); err != nil {
			return 0, fmt.Errorf("entry %q: %w", e.Pattern, err)
		}
	}
	if strings.TrimSpace(e.Pattern) == "" {
		return 0, fmt.Errorf("the entry is empty")
	}
	l, err := c.list(name)
	if err != nil {
		c.content.lists = append(c.content.lists, FilterList{Name: name, Enabled: true})
		l = &c.content.lists[len(c.content.lists)-1]
	}
	if l.Builtin {
		return 0, fmt.Errorf("the built-in list's entries come with Ferry")
	}
	c.record("AddFilterEntry %s %q regex=%v %s %s", name, e.Pattern, e.Regex, e.Action, e.Scope)
	l.Entries = append(l.Entries, e)
	return len(l.Entries), nil
}

func (c *fakeCore) RemoveFilterEntry(name string, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return err
	}
	if l.Builtin || n < 1 || n > len(l.Entries) {
		return fmt.Errorf("cannot remove entry %d of %s", n, name)
	}
	c.record("RemoveFilterEntry %s %d", name, n)
	l.Entries = slices.Delete(l.Entries, n-1, n)
	return nil
}

func (c *fakeCore) DeleteFilterList(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return err
	}
	if l.Builtin {
		return fmt.Errorf("the built-in list cannot be deleted")
	}
	c.record("DeleteFilterList %s", name)
	c.content.lists = slices.DeleteFunc(c.content.lists, func(x FilterList) bool { return x.Name == name })
	return nil
}

// ImportFilterList reads keywords and re:PATTERN lines (no action
// prefixes: the page passes the text through, the core parses it).
func (c *fakeCore) ImportFilterList(ctx context.Context, name string, text []byte, replace bool) (int, error) {
	var es []FilterEntry
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := FilterEntry{Pattern: line}
		if p, ok := strings.CutPrefix(line, "re:"); ok {
			if _, err := regexp.Compile(p); err != nil {
				return 0, fmt.Errorf("line %d: %w", i+1, err)
			}
			e = FilterEntry{Pattern: p, Regex: true}
		}
		es = append(es, e)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		c.content.lists = append(c.content.lists, FilterList{Name: name, Enabled: true})
		l = &c.content.lists[len(c.content.lists)-1]
	}
	if replace {
		l.Entries = nil
	}
	c.record("ImportFilterList %s %d replace=%v", name, len(es), replace)
	l.Entries = append(l.Entries, es...)
	return len(l.Entries), nil
}

func (c *fakeCore) ExportFilterList(ctx context.Context, name string, w io.Writer) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := c.list(name)
	if err != nil {
		return err
	}
	c.record("ExportFilterList %s", name)
	fmt.Fprintf(w, "# %s\n", name)
	for _, e := range l.Entries {
		if e.Regex {
			fmt.Fprintf(w, "re:%s\n", e.Pattern)
		} else {
			fmt.Fprintln(w, e.Pattern)
		}
	}
	return nil
}

// TestFilters redacts the enabled user lists' keywords, as the core
// would with their placeholders.
func (c *fakeCore) TestFilters(ctx context.Context, text string) (FilterTest, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	res := FilterTest{Text: text}
	for _, l := range c.content.lists {
		if !l.Enabled || l.Builtin {
			continue
		}
		for i, e := range l.Entries {
			n := strings.Count(res.Text, e.Pattern)
			if e.Disabled || e.Regex || n == 0 {
				continue
			}
			rule := fmt.Sprintf("%s-%d", l.Name, i+1)
			res.Text = strings.ReplaceAll(res.Text, e.Pattern, "[FILTERED:"+rule+":0000]")
			res.Hits = append(res.Hits, FilterTestHit{List: l.Name, Entry: i + 1, Rule: rule, Action: cmp.Or(e.Action, coreapi.FilterRedact), Count: n})
			if e.Action == coreapi.FilterBlock && res.Blocked == "" {
				res.Blocked = "blocked by " + rule
			}
		}
	}
	return res, nil
}

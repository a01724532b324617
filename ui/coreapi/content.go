package coreapi

import (
	"context"
	"io"
	"time"
)

// Content is what the windows need of the two guards that look at what
// passes through Ferry: the dedup cache (answers kept and served again)
// and the filter lists (secrets and keywords redacted or blocked). The
// settings pages "Cache" and "Filters" are written against it. The
// dashboard's cache and filter figures come from Stats and Recent.
//
// Every method may do I/O (the admin API) and must return within a few
// seconds; the pages call them from button callbacks and from their own
// goroutines.
type Content interface {
	// CacheSettings reads the cache's knobs in effect (cache.enabled,
	// cache.ttl, cache.count_tokens_ttl, cache.models_ttl,
	// cache.max_bytes).
	CacheSettings() (CacheSettings, error)
	// SetCacheSettings changes the knobs that differ from those in effect;
	// all apply at once. The error is the core's when a value is out of
	// the knob's range.
	SetCacheSettings(s CacheSettings) error
	// CacheStats reads the store's size and what the cache did today and
	// this month (local time).
	CacheStats(ctx context.Context) (CacheStats, error)
	// ClearCache drops every cached answer and compacts cache.db; it
	// returns how many answers were dropped.
	ClearCache(ctx context.Context) (int, error)

	// FilterLists lists the filter lists without their entries, in the
	// core's order (by name).
	FilterLists(ctx context.Context) ([]FilterList, error)
	// FilterList returns one list with its entries; the error wraps
	// the core's "no such list".
	FilterList(ctx context.Context, name string) (FilterList, error)
	// SetFilterListEnabled turns a whole list on or off.
	SetFilterListEnabled(name string, on bool) error
	// SetFilterEntryEnabled turns one entry (1-based) of a list on or off;
	// built-in entries can only be turned off, not removed.
	SetFilterEntryEnabled(name string, entry int, on bool) error
	// SetFilterMode sets a list's action on requests and on answers:
	// FilterRedact, FilterBlock, FilterFlag, FilterOff, or FilterByEntry for
	// each entry's own action.
	SetFilterMode(name, request, response string) error
	// AddFilterEntry appends an entry to a user list (created if missing)
	// and returns its number. The error is the core's validation, e.g.
	// the RE2 error of a bad regex or a bad list name.
	AddFilterEntry(name string, e FilterEntry) (int, error)
	// RemoveFilterEntry deletes entry n (1-based) of a user list.
	RemoveFilterEntry(name string, n int) error
	// DeleteFilterList deletes a user list.
	DeleteFilterList(name string) error
	// ImportFilterList adds the entries of text (the plain-text list
	// format: one entry per line, # comments, an optional "action scope"
	// prefix, re:PATTERN for a regex) to a user list, created if missing;
	// replace drops its old entries first. It returns the list's entry
	// count. The error names the first bad line.
	ImportFilterList(ctx context.Context, name string, text []byte, replace bool) (int, error)
	// ExportFilterList writes a list in the same plain-text format to w.
	ExportFilterList(ctx context.Context, name string, w io.Writer) error
	// TestFilters shows what text becomes when sent as a request with the
	// enabled lists, as the "Try it" box shows it.
	TestFilters(ctx context.Context, text string) (FilterTest, error)
}

// CacheSettings are the dedup cache's knobs the Cache page changes.
type CacheSettings struct {
	Enabled bool
	// TTL is how long a Messages answer is served again (cache.ttl),
	// CountTokensTTL a count_tokens answer (cache.count_tokens_ttl),
	// ModelsTTL the model list (cache.models_ttl).
	TTL, CountTokensTTL, ModelsTTL time.Duration
	// MaxBytes is the store's size cap (cache.max_bytes); the least
	// recently used answers go first.
	MaxBytes int64
}

// CacheStats is GET /_ferry/cache as the windows show it.
type CacheStats struct {
	// Enabled is the cache.enabled knob; On is Enabled and the store
	// working; Off says why the store turned itself off ("" when it
	// did not).
	Enabled, On bool
	Off         string
	// Entries and Bytes are what the store holds now, FileBytes the size
	// of cache.db on disk, MaxBytes the cap.
	Entries                    int
	Bytes, FileBytes, MaxBytes int64
	Today, Month               CachePeriod
}

// CachePeriod is what the cache did in a window of the usage history.
type CachePeriod struct {
	// Requests counts every request of the window (cacheable or not);
	// Hits the ones answered from the store, Coalesced the ones that
	// shared an identical request's answer in flight.
	Requests, Hits, Coalesced int64
	// SavedUSD and SavedTokens are what hits and sharing saved.
	SavedUSD    float64
	SavedTokens int64
}

// Upstream is the requests of the period that Ferry sent on (a miss, a
// bypass, or an endpoint the cache does not keep).
func (p CachePeriod) Upstream() int64 { return max(p.Requests-p.Hits-p.Coalesced, 0) }

// HitRate is the share of the period's requests answered locally, 0..1.
func (p CachePeriod) HitRate() float64 {
	if p.Requests == 0 {
		return 0
	}
	return float64(p.Hits+p.Coalesced) / float64(p.Requests)
}

// The filter actions, as the core names them.
const (
	FilterRedact = "redact"
	FilterBlock  = "block"
	FilterFlag   = "flag"
	FilterOff    = "off"
	// FilterByEntry, as a list's mode, means each entry's own action.
	FilterByEntry = "entry"
)

// The sides an entry applies to.
const (
	ScopeRequest  = "request"
	ScopeResponse = "response"
	ScopeBoth     = "both"
)

// FilterList is a named filter list.
type FilterList struct {
	Name    string
	Enabled bool
	// Builtin lists' entries come with Ferry: they can be turned off
	// one by one but not edited or removed.
	Builtin bool
	// RequestMode and ResponseMode override the entries' actions on each
	// side; FilterOff turns the list off there; "" keeps each entry's
	// own.
	RequestMode, ResponseMode string
	// Count is the number of entries, Off how many are turned off (both
	// set by FilterLists, which leaves Entries nil).
	Count, Off int
	Entries    []FilterEntry
}

// FilterEntry is one rule of a list.
type FilterEntry struct {
	// Pattern is a keyword (case-folded substring) or, with Regex, an RE2
	// regular expression.
	Pattern string
	Regex   bool
	// Action is FilterRedact, FilterBlock or FilterFlag ("" means
	// redact); Scope is ScopeRequest, ScopeResponse or ScopeBoth (""
	// means request).
	Action, Scope string
	// MaxLen bounds a match in bytes (0: the core's default, 256).
	MaxLen   int
	Disabled bool
	// Name is a built-in entry's rule name (github-token), Note what it
	// finds; both empty for the user's own entries.
	Name, Note string
}

// FilterTest is what a sample text becomes.
type FilterTest struct {
	Text string
	// Hits are the entries that matched; Blocked is the block message
	// when one of them blocks ("" otherwise).
	Hits    []FilterTestHit
	Blocked string
}

// FilterTestHit is one entry that matched a sample text.
type FilterTestHit struct {
	List   string
	Entry  int
	Rule   string
	Action string
	Count  int
}

package cache

import (
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy/reply"
	"github.com/ferry-gateway/ferry/storage"
)

// Admin is what the admin API needs of the store beside Store.
type Admin interface {
	Stats() storage.CacheStats
	Clear(olderThan time.Duration) (int, error)
}

// History sums the usage history (storage.DB).
type History interface {
	Summary(from, to time.Time) (storage.Summary, error)
}

// Stats is GET /_ferry/cache and `ferry cache stats`.
type Stats struct {
	Enabled bool               `json:"enabled"`
	On      bool               `json:"on"`            // enabled and the store works
	Off     string             `json:"off,omitempty"` // why the store turned itself off
	Store   storage.CacheStats `json:"store"`
	Today   Period             `json:"today"`
	Month   Period             `json:"month"`
}

// Period is what the cache did in a window of the usage history.
type Period struct {
	Requests    uint64  `json:"requests"`
	Hits        uint64  `json:"hits"`
	Coalesced   uint64  `json:"coalesced"`
	HitRate     float64 `json:"hit_rate"` // (hits + coalesced) / requests
	SavedUSD    float64 `json:"saved_usd"`
	SavedTokens uint64  `json:"saved_tokens"`
}

// Handlers serve the cache's admin API.
type Handlers struct {
	Cache   *Cache
	Store   Admin
	History History
	Now     func() time.Time // nil means time.Now
}

// Register mounts GET /_ferry/cache and POST /_ferry/cache/clear
// (?older_than=DURATION; mutating).
func (h *Handlers) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/cache", http.HandlerFunc(h.getStats), false)
	mount("POST /_ferry/cache/clear", http.HandlerFunc(h.postClear), true)
}

// View returns the cache's stats now.
func (h *Handlers) View() (Stats, error) {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	st := h.Store.Stats()
	s := Stats{Enabled: h.Cache.config().Enabled, On: h.Cache.On(), Off: st.Off, Store: st}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
	var err error
	if s.Today, err = h.period(day, now); err != nil {
		return s, err
	}
	s.Month, err = h.period(month, now)
	return s, err
}

func (h *Handlers) period(from, to time.Time) (Period, error) {
	if h.History == nil {
		return Period{}, nil
	}
	sum, err := h.History.Summary(from, to.Add(time.Minute))
	if err != nil {
		return Period{}, err
	}
	p := Period{Requests: sum.Requests, Hits: sum.CacheHits, Coalesced: sum.Coalesced,
		SavedUSD: sum.SavedUSD, SavedTokens: sum.SavedTokens}
	if p.Requests > 0 {
		p.HitRate = float64(p.Hits+p.Coalesced) / float64(p.Requests)
	}
	return p, nil
}

func (h *Handlers) getStats(w http.ResponseWriter, r *http.Request) {
	s, err := h.View()
	if err != nil {
		reply.Error(w, http.StatusInternalServerError, reply.TypeAPI, "cache stats: "+err.Error())
		return
	}
	reply.JSON(w, s)
}

// Cleared is POST /_ferry/cache/clear's answer.
type Cleared struct {
	Cleared int                `json:"cleared"`
	Store   storage.CacheStats `json:"store"`
}

func (h *Handlers) postClear(w http.ResponseWriter, r *http.Request) {
	var older time.Duration
	if v := r.URL.Query().Get("older_than"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			reply.Error(w, http.StatusBadRequest, reply.TypeInvalidRequest, "older_than: want a duration such as 30m or 24h")
			return
		}
		older = d
	}
	n, err := h.Store.Clear(older)
	if err != nil {
		reply.Error(w, http.StatusInternalServerError, reply.TypeAPI, "clear the cache: "+err.Error())
		return
	}
	reply.JSON(w, Cleared{Cleared: n, Store: h.Store.Stats()})
}

package cache

import (
	"strings"
	"time"
)

// Config are the cache's settings (cache.* in the settings registry).
type Config struct {
	Enabled bool
	// TTL is how long a /v1/messages answer is served: the window in
	// which duplicates and retries arrive. A user who wants a fresh
	// sample of the same prompt sends x-ferry-cache: bypass.
	TTL time.Duration
	// CountTokensTTL is count_tokens' (deterministic) answers' life.
	CountTokensTTL time.Duration
	// ModelsTTL is the model list's life.
	ModelsTTL time.Duration
	// MaxBytes and MaxEntryBytes bound the store (LRU past MaxBytes) and
	// one answer (a larger one is neither stored nor joined late).
	MaxBytes      int64
	MaxEntryBytes int64
}

// DefaultConfig is the cache as shipped: on, 10 minutes for messages, an
// hour for count_tokens, 10 minutes for models, 256 MB, 8 MB an entry.
func DefaultConfig() Config {
	return Config{
		Enabled:        true,
		TTL:            10 * time.Minute,
		CountTokensTTL: time.Hour,
		ModelsTTL:      10 * time.Minute,
		MaxBytes:       256 << 20,
		MaxEntryBytes:  8 << 20,
	}
}

// kind is a cacheable endpoint.
type kind uint8

const (
	kindNone kind = iota
	kindMessages
	kindCountTokens
	kindModels
)

func kindOf(method, path string) kind {
	switch {
	case method == "POST" && path == "/v1/messages":
		return kindMessages
	case method == "POST" && path == "/v1/messages/count_tokens":
		return kindCountTokens
	case method == "GET" && path == "/v1/models":
		return kindModels
	case method == "GET" && strings.HasPrefix(path, "/v1/models/") && !strings.Contains(path[len("/v1/models/"):], "/") && len(path) > len("/v1/models/"):
		return kindModels
	}
	return kindNone
}

func (c Config) ttl(k kind) time.Duration {
	switch k {
	case kindCountTokens:
		return c.CountTokensTTL
	case kindModels:
		return c.ModelsTTL
	}
	return c.TTL
}

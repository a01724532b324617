package cache

import (
	"github.com/ferry-gateway/ferry/proxy/settings"
)

// Keys of the cache's knobs in the settings registry.
const (
	KeyEnabled        = "cache.enabled"
	KeyTTL            = "cache.ttl"
	KeyCountTokensTTL = "cache.count_tokens_ttl"
	KeyModelsTTL      = "cache.models_ttl"
	KeyMaxBytes       = "cache.max_bytes"
	KeyMaxEntryBytes  = "cache.max_entry_bytes"
)

// Knobs are the cache's settings; every one applies at once (Watch).
func Knobs() []settings.Knob {
	const owner = "proxy/cache"
	return []settings.Knob{
		{Key: KeyEnabled, Owner: owner, Type: settings.Bool, Default: "on", Applies: settings.Now, Flag: "cache",
			Help: "Answer duplicate requests from the dedup cache and share identical requests in flight"},
		{Key: KeyTTL, Owner: owner, Type: settings.Duration, Default: "10m", Min: "1s", Max: "30d", Applies: settings.Now,
			Help: "How long a Messages answer is served again to an identical request"},
		{Key: KeyCountTokensTTL, Owner: owner, Type: settings.Duration, Default: "1h", Min: "1s", Max: "30d", Applies: settings.Now,
			Help: "How long a count_tokens answer is served again"},
		{Key: KeyModelsTTL, Owner: owner, Type: settings.Duration, Default: "10m", Min: "1s", Max: "30d", Applies: settings.Now,
			Help: "How long the model list is served again"},
		{Key: KeyMaxBytes, Owner: owner, Type: settings.Size, Default: "256MiB", Min: "1MiB", Max: "64GiB", Applies: settings.Now,
			Help: "Size of the dedup cache; the least recently used answers go first"},
		{Key: KeyMaxEntryBytes, Owner: owner, Type: settings.Size, Default: "8MiB", Min: "64KiB", Max: "1GiB", Applies: settings.Now,
			Help: "Largest answer the dedup cache keeps"},
	}
}

// Registry is what ConfigFrom and Follow need of the settings registry.
type Registry interface {
	Value(key string) settings.Value
	Watch(key string, fn func(settings.Value)) (cancel func())
}

// ConfigFrom reads the cache's configuration from the registry.
func ConfigFrom(reg Registry) Config {
	return Config{
		Enabled:        reg.Value(KeyEnabled).Bool(),
		TTL:            reg.Value(KeyTTL).Duration(),
		CountTokensTTL: reg.Value(KeyCountTokensTTL).Duration(),
		ModelsTTL:      reg.Value(KeyModelsTTL).Duration(),
		MaxBytes:       reg.Value(KeyMaxBytes).Bytes(),
		MaxEntryBytes:  reg.Value(KeyMaxEntryBytes).Bytes(),
	}
}

// Follow applies every later change of the cache's knobs: to the stage,
// and the size limits to the store through setLimits.
func (c *Cache) Follow(reg Registry, setLimits func(maxBytes, maxEntryBytes int64)) {
	apply := func(settings.Value) {
		cfg := ConfigFrom(reg)
		c.SetConfig(cfg)
		if setLimits != nil {
			setLimits(cfg.MaxBytes, cfg.MaxEntryBytes)
		}
	}
	for _, k := range Knobs() {
		reg.Watch(k.Key, apply)
	}
}

package brake

import (
	"strconv"

	"github.com/ferry-gateway/ferry/proxy/settings"
)

// The brake's knobs in the settings registry.
const (
	KeyEnabled = "brake.enabled"
	KeyRepeats = "brake.repeats"
	KeyWindow  = "brake.window"
)

// Knobs are the brake's settings.
func Knobs() []settings.Knob {
	const owner = "proxy/brake"
	return []settings.Knob{
		{Key: KeyEnabled, Owner: owner, Type: settings.Bool, Default: "on",
			Help: "Stop an agent that repeats the same tool call with the same result", Applies: settings.Now},
		{Key: KeyRepeats, Owner: owner, Type: settings.Integer, Default: strconv.Itoa(DefaultRepeats), Min: "2", Max: "1000",
			Help: "How many equal tool calls, or answers to one request, make a loop", Applies: settings.Now},
		{Key: KeyWindow, Owner: owner, Type: settings.Duration, Default: "10m", Min: "1s", Max: "24h",
			Help: "The window in which repeats of one request are counted", Applies: settings.Now},
	}
}

// ConfigFrom reads the brake's settings from the registry's values.
func ConfigFrom(value func(key string) settings.Value) Config {
	return Config{
		Enabled:       value(KeyEnabled).Bool(),
		Repeats:       int(value(KeyRepeats).Int()),
		WindowSeconds: int(value(KeyWindow).Duration().Seconds()),
	}
}

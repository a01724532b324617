package limit

import (
	"strconv"

	"github.com/ferry-gateway/ferry/proxy/settings"
)

// The limits' knobs in the settings registry (`ferry config`, `ferry
// limits`).
const (
	KeyRPM            = "limit.rpm"
	KeyITPM           = "limit.itpm"
	KeyOTPM           = "limit.otpm"
	KeyConcurrency    = "limit.concurrency"
	KeyQueueWait      = "limit.queue_wait"
	KeyFollowUpstream = "limit.follow_upstream"
)

// Keys lists the limits' knobs in the order `ferry limits list` shows them.
var Keys = []string{KeyRPM, KeyITPM, KeyOTPM, KeyConcurrency, KeyQueueWait, KeyFollowUpstream}

// Knobs are the limits' settings.
func Knobs() []settings.Knob {
	const owner = "proxy/limit"
	return []settings.Knob{
		{Key: KeyRPM, Owner: owner, Type: settings.Integer, Default: strconv.Itoa(DefaultRPM), Min: "0", Max: "1000000",
			Help: "Requests per minute per API key to Anthropic's Messages API (0: no limit)", Applies: settings.Now, Flag: "rpm"},
		{Key: KeyITPM, Owner: owner, Type: settings.Integer, Default: "0", Min: "0", Max: "1000000000",
			Help: "Input tokens per minute per API key (0: no limit)", Applies: settings.Now},
		{Key: KeyOTPM, Owner: owner, Type: settings.Integer, Default: "0", Min: "0", Max: "1000000000",
			Help: "Output tokens per minute per API key (0: no limit)", Applies: settings.Now},
		{Key: KeyConcurrency, Owner: owner, Type: settings.Integer, Default: "0", Min: "0", Max: "10000",
			Help: "Most requests upstream at once; the rest wait in line (0: no limit)", Applies: settings.Now},
		{Key: KeyQueueWait, Owner: owner, Type: settings.Duration, Default: "1m", Min: "1s", Max: "1h",
			Help: "Longest wait in the concurrency queue before a 429", Applies: settings.Now},
		{Key: KeyFollowUpstream, Owner: owner, Type: settings.Bool, Default: "on",
			Help: "Wait for Anthropic's rate-limit reset when 5% or less remains, instead of meeting a 429", Applies: settings.Now},
	}
}

// ConfigFrom reads the limits from the registry's values. The longest
// wait for Anthropic's reset is retry.max_retry_after, the road's knob
// (maxWaitKey): the same bound as for a 429 Ferry waits out itself.
func ConfigFrom(value func(key string) settings.Value, maxWaitKey string) Config {
	return Config{
		RPM:              int(value(KeyRPM).Int()),
		ITPM:             value(KeyITPM).Int(),
		OTPM:             value(KeyOTPM).Int(),
		Concurrency:      int(value(KeyConcurrency).Int()),
		QueueWaitSeconds: int(value(KeyQueueWait).Duration().Seconds()),
		FollowUpstream:   value(KeyFollowUpstream).Bool(),
		MaxWaitSeconds:   int(value(maxWaitKey).Duration().Seconds()),
	}
}

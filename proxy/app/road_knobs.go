package app

import (
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/retry"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/settings"
	"github.com/ferry-gateway/ferry/storage"
)

// The road's knobs (issue 9): retries before the first byte, failover,
// stream stalls, warm connections and HTTP/2 pings. The route fields
// (http, tls_key_share, region) are not knobs: `ferry routes set` keeps
// them with their route.
const (
	KeyRetryMaxAttempts      = "retry.max_attempts"
	KeyRetryMaxElapsed       = "retry.max_elapsed"
	KeyRetryMaxRetryAfter    = "retry.max_retry_after"
	KeyRoadFailover          = "road.failover"
	KeyRoadStreamIdleTimeout = "road.stream_idle_timeout"
	KeyRoadStreamFirstByte   = "road.stream_first_byte_timeout"
	KeyRoadKeepWarm          = "road.keep_warm"
	KeyRoadH2PingInterval    = "road.h2_ping_interval"
	KeyRoadH2PingTimeout     = "road.h2_ping_timeout"
	// Claude Code gives up at once on a retry-after over 60 s: Ferry
	// waiting longer would only hold it.
	maxRetryAfterClaudeCodeText = "60s"
)

func roadKnobs() []settings.Knob {
	return []settings.Knob{
		{
			Key: KeyRetryMaxAttempts, Owner: "proxy/retry", Type: settings.Integer, Default: "3", Min: "1",
			// A record keeps every attempt: storage.MaxAttempts bounds both.
			Max:     strconv.Itoa(storage.MaxAttempts),
			Help:    "Upstream attempts for one request before its first byte, failovers included (1: no retries)",
			Applies: settings.Now,
		},
		{
			Key: KeyRetryMaxElapsed, Owner: "proxy/retry", Type: settings.Duration,
			Default: retry.DefaultMaxElapsed.String(), Min: "1s", Max: "10m",
			Help:    "No retry starts this long after the request arrived",
			Applies: settings.Now,
		},
		{
			Key: KeyRetryMaxRetryAfter, Owner: "proxy/retry", Type: settings.Duration,
			Default: retry.DefaultMaxRetryAfter.String(), Min: "0s", Max: maxRetryAfterClaudeCodeText,
			Help:    "A 429 is retried by Ferry only when its retry-after is at most this; a longer one goes to the client",
			Applies: settings.Now,
		},
		{
			Key: KeyRoadFailover, Owner: "proxy/route", Type: settings.Enum, Default: route.FailoverAutoOnly,
			Values:  []string{route.FailoverAutoOnly, route.FailoverAlways},
			Help:    "When a road failure moves a request to another route: in Auto mode only, or also from a route chosen by hand",
			Applies: settings.Now,
		},
		{
			Key: KeyRoadStreamIdleTimeout, Owner: "proxy", Type: settings.Duration,
			Default: formatDefault(proxy.DefaultStreamIdleTimeout), Min: "5s", Max: "1h",
			Help:    "An event stream silent this long is ended with a timeout error the client can retry (other bodies: upstream.idle_timeout)",
			Applies: settings.NextStart,
		},
		{
			Key: KeyRoadStreamFirstByte, Owner: "proxy", Type: settings.Duration,
			Default: formatDefault(proxy.DefaultStreamFirstByteTimeout), Min: "5s", Max: "1h",
			Help:    "Time to the response headers of a streaming request before it counts as a road failure (others: upstream.first_byte_timeout)",
			Applies: settings.NextStart,
		},
		{
			Key: KeyRoadKeepWarm, Owner: "proxy/route", Type: settings.Bool, Default: "on",
			Help:    "Keep a connection to the API open through the current route and the next one, so the first request pays no handshakes",
			Applies: settings.Now,
		},
		{
			Key: KeyRoadH2PingInterval, Owner: "proxy/route", Type: settings.Duration,
			Default: formatDefault(route.DefaultH2PingInterval), Min: "1s", Max: "10m",
			Help:    "Silence on an HTTP/2 connection after which Ferry pings it (a dead tunnel answers no ping)",
			Applies: settings.NextStart,
		},
		{
			Key: KeyRoadH2PingTimeout, Owner: "proxy/route", Type: settings.Duration,
			Default: formatDefault(route.DefaultH2PingTimeout), Min: "1s", Max: "5m",
			Help:    "An unanswered ping closes the connection after this long, ending its streams at once with a repair",
			Applies: settings.NextStart,
		},
	}
}

// retryPolicyFrom reads the retry.* knobs.
func retryPolicyFrom(reg *settings.Registry, m *retry.Metrics) *retry.Policy {
	return &retry.Policy{
		MaxAttempts:   int(reg.Value(KeyRetryMaxAttempts).Int()),
		MaxElapsed:    reg.Value(KeyRetryMaxElapsed).Duration(),
		MaxRetryAfter: max(reg.Value(KeyRetryMaxRetryAfter).Duration(), time.Nanosecond),
		Metrics:       m,
	}
}

// watchRoad applies the road knobs that take effect at once.
func (s *Server) watchRoad(live *retry.Live) {
	reg := s.registry
	for _, k := range []string{KeyRetryMaxAttempts, KeyRetryMaxElapsed, KeyRetryMaxRetryAfter} {
		reg.Watch(k, func(settings.Value) { live.Store(retryPolicyFrom(reg, s.road)) })
	}
	reg.Watch(KeyRoadFailover, func(v settings.Value) {
		if err := s.routes.SetFailover(v.String()); err != nil {
			s.log.Warn("road.failover", "err", err)
		}
	})
	reg.Watch(KeyRoadKeepWarm, func(v settings.Value) { s.routes.SetKeepWarm(v.Bool()) })
}

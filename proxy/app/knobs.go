package app

import (
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"github.com/ferry-gateway/ferry/proxy/settings"
)

// Keys of the knobs registered here. The owner named in each knob is the
// package that applies the value; proxy/app reads them for it when it
// builds the core.
const (
	KeyListen           = "server.listen"
	KeyAPIBase          = "upstream.api_base"
	KeyConnectTimeout   = "upstream.connect_timeout"
	KeyFirstByteTimeout = "upstream.first_byte_timeout"
	KeyIdleTimeout      = "upstream.idle_timeout"
	KeyMaxBody          = "request.max_body"
	KeyRetention        = "history.retention"
	KeyStoreBodies      = "history.store_bodies"
	KeyLanguage         = "ui.language"
	KeyMetricsPublic    = "metrics.public"
)

// Knobs is every knob of Ferry's settings registry. A package that adds a
// knob defines it (a settings.Knob with its key, owner, type, default,
// range, help and Applies) and lists it here; `ferry serve` gets a flag for
// each knob with a Flag.
func Knobs() []settings.Knob {
	ks := coreKnobs()
	ks = append(ks, budget.Knobs()...)
	ks = append(ks, limit.Knobs()...)
	ks = append(ks, brake.Knobs()...)
	return append(ks, roadKnobs()...)
}

func coreKnobs() []settings.Knob {
	return []settings.Knob{
		{
			Key: KeyListen, Owner: "proxy/app", Type: settings.String, Default: DefaultListen,
			Help:    "The address Ferry listens on",
			Allowed: "host:port on a loopback address, e.g. 127.0.0.1:7856 (the network only with --listen and --allow-remote, for one run)",
			Check:   hostPort, CheckStored: loopback, Applies: settings.NextStart, Flag: "listen", Legacy: "listen",
		},
		{
			Key: KeyAPIBase, Owner: "proxy", Type: settings.String, Default: DefaultAPIBase,
			Help:    "Where requests go: Anthropic's API, or a relay service's URL",
			Allowed: "an http:// or https:// URL",
			Check:   httpURL, Applies: settings.NextStart, Flag: "api-base",
		},
		{
			Key: KeyConnectTimeout, Owner: "proxy/route", Type: settings.Duration,
			Default: formatDefault(DefaultConnectTimeout), Min: "1s", Max: "10m",
			Help: "Time to connect to the upstream, through the route", Applies: settings.NextStart, Flag: "connect-timeout",
		},
		{
			Key: KeyFirstByteTimeout, Owner: "proxy", Type: settings.Duration,
			Default: formatDefault(DefaultFirstByteTimeout), Min: "1s", Max: "24h",
			Help:    "Time to the upstream's response headers (non-streaming calls may think this long)",
			Applies: settings.NextStart, Flag: "first-byte-timeout",
		},
		{
			Key: KeyIdleTimeout, Owner: "proxy", Type: settings.Duration,
			Default: formatDefault(DefaultIdleTimeout), Min: "1s", Max: "24h",
			Help:    "Longest silence between bytes of a response; there is no total timeout",
			Applies: settings.NextStart, Flag: "idle-timeout",
		},
		{
			Key: KeyMaxBody, Owner: "proxy", Type: settings.Size,
			Default: strconv.FormatInt(DefaultMaxBody, 10), Min: "1KiB", Max: strconv.FormatInt(DefaultMaxBodyLarge, 10),
			Help:    "Largest request body (file uploads and batches may send up to 500MiB)",
			Applies: settings.NextStart, Flag: "max-body",
		},
		{
			Key: KeyRetention, Owner: "proxy/app", Type: settings.Duration, Default: "90d", Max: "36500d",
			Help:    "How long usage history is kept",
			Allowed: "0s (keep everything) or a duration of at least 1h, such as 90d",
			Check:   func(v settings.Value) bool { return v.Duration() == 0 || v.Duration() >= time.Hour },
			Applies: settings.Now, Flag: "retention", Legacy: "retention",
		},
		{
			Key: KeyStoreBodies, Owner: "proxy/app", Type: settings.Bool, Default: "off",
			Help:    "Store prompt and answer bodies in the usage history",
			Applies: settings.Now, Flag: "store-bodies", Legacy: "store_bodies",
		},
		{
			// Off: metrics name models, routes and spend, which are no other
			// local user's business (issue 14).
			Key: KeyMetricsPublic, Owner: "proxy/app", Type: settings.Bool, Default: "off",
			Help:    "Let /_ferry/metrics be read without a token (for a Prometheus scraper that sends none)",
			Applies: settings.Now, Flag: "metrics-public",
		},
		{
			Key: KeyLanguage, Owner: "ui", Type: settings.Enum, Default: i18n.System,
			Values:  []string{i18n.System, i18n.English, i18n.Chinese},
			Help:    "The language of the windows, the tray and the command line (system: the session's)",
			Applies: settings.WindowRestart, Legacy: "language",
		},
	}
}

func formatDefault(d time.Duration) string { return d.String() }

func hostPort(v settings.Value) bool {
	_, port, err := net.SplitHostPort(v.String())
	if err != nil {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 0 && p <= 65535
}

// loopback keeps a stored listen address on this machine: the network is
// a decision made for one run (--allow-remote), which Open checks.
func loopback(v settings.Value) bool {
	host, _, _ := net.SplitHostPort(v.String())
	return proxy.IsLoopbackHost(host)
}

func httpURL(v settings.Value) bool {
	u, err := url.Parse(v.String())
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
)

// Defaults for Config fields left zero.
const (
	DefaultListen           = "127.0.0.1:7856"
	DefaultAPIBase          = proxy.DefaultAPIBase
	DefaultConnectTimeout   = 20 * time.Second
	DefaultFirstByteTimeout = proxy.DefaultFirstByteTimeout
	DefaultIdleTimeout      = proxy.DefaultIdleTimeout
	DefaultMaxBody          = proxy.DefaultMaxBody
	DefaultMaxBodyLarge     = proxy.DefaultMaxBodyLarge
	DefaultRetention        = 90 * 24 * time.Hour
	DefaultDrainTimeout     = proxy.DefaultDrainTimeout
)

// Config is everything `ferry serve` and the tray app take from flags and
// FERRY_* variables. Retention and StoreBodies are also kept in the
// settings bucket: a nil/zero value here means "use the stored setting".
type Config struct {
	Listen             string // "" = the stored setting, else DefaultListen
	APIBase            string
	Via                string // "" = from the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY)
	AllowRemote        bool
	AllowOrigins       []string
	DataDir            string
	CAFile             string
	InsecureSkipVerify bool
	ConnectTimeout     time.Duration
	FirstByteTimeout   time.Duration
	IdleTimeout        time.Duration
	MaxBody            int64
	Retention          time.Duration // 0 = stored setting, else DefaultRetention; negative = keep forever
	StoreBodies        *bool         // nil = stored setting, else off
	DrainTimeout       time.Duration
	APIKey             string // FERRY_API_KEY: a key for this run, never stored
	// MetricsPublic opens /_ferry/metrics to callers without a token (a
	// Prometheus scraper); off by default: metrics show models, routes
	// and spend. The settings registry's metrics.public.
	MetricsPublic bool

	Version string
	Logger  *slog.Logger
	Getenv  func(string) string // nil = os.Getenv; tests pass their own environment
}

// DefaultDataDir is the OS config dir + /ferry. Without $HOME (a systemd
// unit, env -i) the config dir is found from the user's passwd entry; when
// even that fails it is "" and Open asks for --data-dir. It never falls
// back to the temp dir: /tmp/ferry is a name any local user can create
// first, and whoever owns it reads the tokens (issue 14).
func DefaultDataDir() string {
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, "ferry")
	}
	u, err := user.Current()
	if err != nil || u.HomeDir == "" || !filepath.IsAbs(u.HomeDir) {
		return ""
	}
	switch runtime.GOOS {
	case "darwin", "ios":
		return filepath.Join(u.HomeDir, "Library", "Application Support", "ferry")
	case "windows", "plan9":
		return "" // UserConfigDir reads %AppData% / $home there; no guess
	default:
		return filepath.Join(u.HomeDir, ".config", "ferry")
	}
}

// errNoDataDir is Open's answer when no data dir could be found.
var errNoDataDir = errors.New("no data dir: $HOME is unset and the user has no home directory in the passwd database; give one with --data-dir DIR (FERRY_DATA_DIR)")

func (c *Config) applyDefaults() {
	if c.APIBase == "" {
		c.APIBase = DefaultAPIBase
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir()
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.FirstByteTimeout == 0 {
		c.FirstByteTimeout = DefaultFirstByteTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
}

// validate checks what can be checked before anything is opened.
func (c *Config) validate() (*url.URL, error) {
	base, err := url.Parse(c.APIBase)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("--api-base %q: want an http:// or https:// URL", c.APIBase)
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: want host:port, e.g. %s", c.Listen, DefaultListen)
	}
	if !proxy.IsLoopbackHost(host) && !c.AllowRemote {
		return nil, fmt.Errorf("--listen %s is not a loopback address: anyone on the network could spend your key; add --allow-remote to accept that (the local token is then required on every request)", c.Listen)
	}
	return base, nil
}

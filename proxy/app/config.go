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
// FERRY_* variables. The fields that are also knobs of the settings
// registry (Knobs) override the stored value for this run only, and are
// never stored: zero means "the stored setting, else the knob's default".
// Open fills them with the values in effect.
type Config struct {
	Listen             string // knob server.listen
	APIBase            string // knob upstream.api_base
	Via                string // "" = from the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY)
	AllowRemote        bool
	AllowOrigins       []string
	DataDir            string
	CAFile             string
	InsecureSkipVerify bool
	ConnectTimeout     time.Duration // knob upstream.connect_timeout
	FirstByteTimeout   time.Duration // knob upstream.first_byte_timeout
	IdleTimeout        time.Duration // knob upstream.idle_timeout
	MaxBody            int64         // knob request.max_body
	Retention          time.Duration // knob history.retention; negative = keep forever
	StoreBodies        *bool         // knob history.store_bodies; nil = not overridden
	DrainTimeout       time.Duration
	APIKey             string // FERRY_API_KEY: a key for this run, never stored

	// Overrides are knob values for this run given as text (the CLI's
	// flags and FERRY_* variables), validated by the registry; they win
	// over the typed fields above.
	Overrides []Override

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

// Override is one knob's value for this run: Key's value as text, and where
// it came from ("flag --retention", "FERRY_RETENTION") for `ferry config
// list`.
type Override struct {
	Key, Text, From string
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir()
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

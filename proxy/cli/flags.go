package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
)

// envName is the FERRY_* variable that stands for a flag: FERRY_ + the flag
// in capitals with '-' as '_' (--data-dir → FERRY_DATA_DIR).
func envName(flagName string) string {
	return "FERRY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// stringList is a repeatable flag; its variable takes a comma-separated list.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*s = append(*s, part)
		}
	}
	return nil
}

// optionalBool is a bool flag that remembers whether it was given, so an
// unset flag leaves the stored setting alone.
type optionalBool struct{ v *bool }

func (o *optionalBool) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.FormatBool(*o.v)
}
func (o *optionalBool) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	o.v = &b
	return nil
}
func (o *optionalBool) IsBoolFlag() bool { return true }

// durationWithDays is a duration flag that also takes days ("90d").
type durationWithDays struct{ d *time.Duration }

func (f durationWithDays) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}
func (f durationWithDays) Set(s string) error {
	d, err := parseDays(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// parseDays parses "7d", "36h", "90m"…; days are 24 h.
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("bad duration %q: want e.g. 90d or 36h", s)
		}
		return time.Duration(days * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q: want e.g. 90d or 36h", s)
	}
	return d, nil
}

// serveOptions are the flags shared by `ferry` and `ferry serve`.
type serveOptions struct {
	cfg         app.Config
	storeBodies optionalBool
}

// serveFlags declares the flags shared by `ferry` and `ferry serve` on fs.
// Call finish after fs.Parse.
func serveFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{}
	cfg := &o.cfg
	fs.StringVar(&cfg.Listen, "listen", app.DefaultListen, "address to listen on (loopback only unless --allow-remote)")
	fs.StringVar(&cfg.APIBase, "api-base", app.DefaultAPIBase, "where requests go: Anthropic's API, or a relay service's URL")
	fs.StringVar(&cfg.Via, "via", "", "upstream route: direct, socks5://[user:pass@]host:port, http://[user:pass@]host:port or https://…\n(default: HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment, else direct)")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow --listen on a non-loopback address; the local token is then required on every request")
	fs.Var((*stringList)(&cfg.AllowOrigins), "allow-origin", "a browser origin allowed to call Ferry, e.g. http://localhost:3000 (repeatable; none by default)")
	fs.StringVar(&cfg.DataDir, "data-dir", app.DefaultDataDir(), "where ferry.db and runtime.json live")
	fs.StringVar(&cfg.CAFile, "ca-file", "", "PEM file of extra CA roots to trust, added to the system's (for relays or proxies that re-sign TLS)")
	fs.BoolVar(&cfg.InsecureSkipVerify, "insecure-skip-verify", false, "DANGEROUS: do not verify the upstream's TLS certificate")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", app.DefaultConnectTimeout, "time to connect to the upstream, through the route")
	fs.DurationVar(&cfg.FirstByteTimeout, "first-byte-timeout", app.DefaultFirstByteTimeout, "time to the upstream's response headers (non-streaming calls may think this long)")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", app.DefaultIdleTimeout, "longest silence between bytes of a response; there is no total timeout")
	fs.Int64Var(&cfg.MaxBody, "max-body", app.DefaultMaxBody, "largest request body in bytes (files and batches may send up to 500 MB)")
	fs.Var(durationWithDays{&cfg.Retention}, "retention", "how long usage history is kept, e.g. 90d (default 90d, kept in settings)")
	fs.Var(&o.storeBodies, "store-bodies", "store prompt and answer bodies in the usage history (default off, kept in settings)")
	return o
}

// applyEnv sets every flag that was not given on the command line from its
// FERRY_* variable, so flags win over the environment.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// finish applies the environment and returns the Config.
func (o *serveOptions) finish(fs *flag.FlagSet, getenv func(string) string) (app.Config, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := applyEnv(fs, getenv); err != nil {
		return app.Config{}, err
	}
	if !given["listen"] && getenv(envName("listen")) == "" {
		o.cfg.Listen = "" // the address stored in the settings, else the default
	}
	o.cfg.StoreBodies = o.storeBodies.v
	o.cfg.APIKey = getenv("FERRY_API_KEY")
	o.cfg.Getenv = getenv
	return o.cfg, nil
}

// usageWithEnv prints a FlagSet's flags, each with its FERRY_* variable.
func usageWithEnv(w io.Writer, fs *flag.FlagSet, head string) {
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, "\nFlags (each also settable by the environment variable shown):")
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s  [%s]%s\n      %s\n", f.Name, envName(f.Name), def,
			strings.ReplaceAll(f.Usage, "\n", "\n      "))
	})
}

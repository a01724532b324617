package cli

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/settings"
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

// knobFlag is a flag that overrides a settings knob for one run: its value
// is checked by the knob (type, range, allowed values) as it is parsed, and
// is never stored.
type knobFlag struct {
	knob settings.Knob
	text string
	set  bool
}

func (f *knobFlag) String() string { return f.text }
func (f *knobFlag) Set(s string) error {
	if _, err := f.knob.Parse(s); err != nil {
		return err
	}
	f.text, f.set = s, true
	return nil
}
func (f *knobFlag) IsBoolFlag() bool { return f.knob.Type == settings.Bool }

// serveOptions are the flags shared by `ferry` and `ferry serve`.
type serveOptions struct {
	cfg      app.Config
	knobs    []*knobFlag
	warnings []string // printed once the flags are parsed
}

// serveFlags declares the flags shared by `ferry` and `ferry serve` on fs:
// one per knob with a Flag (app.Knobs), and those that only make sense for
// one run. Call finish after fs.Parse.
func serveFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{}
	cfg := &o.cfg
	for _, k := range app.Knobs() {
		if k.Flag == "" {
			continue
		}
		f := &knobFlag{knob: k}
		o.knobs = append(o.knobs, f)
		def, _ := k.Parse(k.Default) // valid: the registry's test says so
		fs.Var(f, k.Flag, fmt.Sprintf("%s\n(for this run only, not stored: overrides the setting %s, default %s)", k.Help, k.Key, def))
	}
	fs.StringVar(&cfg.Via, "via", "", "upstream route for this run: direct, socks5://[user:pass@]host:port, http://[user:pass@]host:port or https://…\n(default: HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment, else direct);\nwith a password, prefer FERRY_VIA: a flag is visible to every local user")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow --listen on a non-loopback address; the local token is then required on every request")
	fs.Var((*stringList)(&cfg.AllowOrigins), "allow-origin", "a browser origin allowed to call Ferry, e.g. http://localhost:3000 (repeatable; none by default)")
	fs.StringVar(&cfg.DataDir, "data-dir", app.DefaultDataDir(), "where ferry.db and runtime.json live")
	fs.StringVar(&cfg.CAFile, "ca-file", "", "PEM file of extra CA roots to trust, added to the system's (for relays or proxies that re-sign TLS)")
	fs.BoolVar(&cfg.InsecureSkipVerify, "insecure-skip-verify", false, "DANGEROUS: do not verify the upstream's TLS certificate")
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
	for _, f := range o.knobs {
		if !f.set {
			continue
		}
		from := "flag --" + f.knob.Flag
		if !given[f.knob.Flag] {
			from = envName(f.knob.Flag)
		}
		o.cfg.Overrides = append(o.cfg.Overrides, app.Override{Key: f.knob.Key, Text: f.text, From: from})
	}
	o.cfg.APIKey = getenv("FERRY_API_KEY")
	o.cfg.Getenv = getenv
	if given["via"] && hasPassword(o.cfg.Via) {
		o.warnings = append(o.warnings, passwordOnCommandLine("--via", "set FERRY_VIA instead (the environment is readable only by you), or store the route with `ferry routes add NAME URL --password-stdin`"))
	}
	return o.cfg, nil
}

// hasPassword says whether a proxy URL carries a password.
func hasPassword(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.Contains(raw, "@") && strings.Contains(raw, ":")
	}
	_, ok := u.User.Password()
	return ok
}

// passwordOnCommandLine is the warning for a proxy password given as an
// argument: /proc/PID/cmdline, and so `ps`, shows it to every local user
// (issue 14).
func passwordOnCommandLine(what, instead string) string {
	return "warning: the proxy password in " + what + " is on the command line, where every user of this machine can read it (ps, /proc); " + instead
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

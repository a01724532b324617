package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/usage"
)

// subcommand parses a subcommand's flags (always with --data-dir) and
// connects to Ferry's admin API.
type subcommand struct {
	fs      *flag.FlagSet
	dataDir string
	env     Env
	args    []string // positional arguments, flags taken out wherever they stood
}

func newSubcommand(name string, env Env) *subcommand {
	s := &subcommand{fs: flag.NewFlagSet(name, flag.ContinueOnError), env: env}
	s.fs.SetOutput(env.Stderr)
	s.fs.StringVar(&s.dataDir, "data-dir", app.DefaultDataDir(), "Ferry's data dir [FERRY_DATA_DIR]")
	return s
}

// parse takes flags before, between and after the positional arguments
// (`ferry key set --data-dir D` as well as `ferry key --data-dir D set`).
func (s *subcommand) parse(args []string) error {
	for {
		if err := s.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		args = s.fs.Args()
		if len(args) == 0 {
			break
		}
		s.args = append(s.args, args[0])
		args = args[1:]
	}
	return applyEnv(s.fs, s.env.Getenv)
}

func (s *subcommand) arg(i int) string {
	if i < len(s.args) {
		return s.args[i]
	}
	return ""
}

// run connects (to the running Ferry or the database) and calls f.
func (s *subcommand) run(f func(ctx context.Context, a *admin) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := app.Config{
		DataDir: s.dataDir, Getenv: s.env.Getenv, Version: s.env.Version,
		Logger: slog.New(slog.NewTextHandler(s.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	a, err := connect(ctx, cfg, s.env.Stderr)
	if err != nil {
		return err
	}
	ferr := f(ctx, a)
	if a.close != nil {
		if cerr := a.close(context.Background()); cerr != nil && ferr == nil {
			ferr = cerr
		}
	}
	return ferr
}

// say runs one admin call and prints msg when it succeeds.
func (s *subcommand) say(method, path string, body any, msg string) error {
	return s.run(func(ctx context.Context, a *admin) error {
		if err := a.do(ctx, method, path, body, nil); err != nil {
			return err
		}
		fmt.Fprintln(s.env.Stdout, msg)
		return nil
	})
}

func (s *subcommand) usage(line string) error {
	fmt.Fprintln(s.env.Stderr, "usage:", line)
	return errUsage
}

func runToken(args []string, env Env) error {
	s := newSubcommand("ferry token", env)
	regen := s.fs.Bool("regenerate", false, "make a new local token (clients using the old one get 401)")
	if err := s.parse(args); err != nil {
		return err
	}
	return s.run(func(ctx context.Context, a *admin) error {
		var out struct {
			Token string `json:"token"`
		}
		method, path := http.MethodGet, "/_ferry/token"
		if *regen {
			method, path = http.MethodPost, "/_ferry/token/regenerate"
		}
		if err := a.do(ctx, method, path, nil, &out); err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, out.Token)
		return nil
	})
}

func runKey(args []string, env Env) error {
	s := newSubcommand("ferry key", env)
	if err := s.parse(args); err != nil {
		return err
	}
	if len(s.args) != 1 {
		return s.usage("ferry key set|clear|status  (set reads the key from stdin)")
	}
	switch s.arg(0) {
	case "set":
		key, err := readSecret(env)
		if err != nil {
			return err
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var out app.KeyStatus
			if err := a.do(ctx, http.MethodPut, "/_ferry/key", key, &out); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "API key %s stored in the %s. Clients now send the local token (`ferry token`).\n", out.Masked, out.Source)
			return nil
		})
	case "clear":
		return s.say(http.MethodDelete, "/_ferry/key", nil, "API key removed. Clients must now send their own key.")
	case "status":
		return s.run(func(ctx context.Context, a *admin) error {
			var out app.KeyStatus
			if err := a.do(ctx, http.MethodGet, "/_ferry/key", nil, &out); err != nil {
				return err
			}
			if !out.Set {
				fmt.Fprintln(env.Stdout, "Ferry holds no API key: clients send their own.")
				return nil
			}
			fmt.Fprintf(env.Stdout, "API key %s (from the %s).\n", out.Masked, out.Source)
			return nil
		})
	}
	return s.usage("ferry key set|clear|status")
}

// readSecret reads one line from stdin, the only way a key enters Ferry's
// command line: arguments would land in the shell history and ps.
func readSecret(env Env) (string, error) {
	key, err := readSecretLine(env, "Paste your Anthropic API key and press Enter (it is not shown): ")
	if err != nil {
		return "", fmt.Errorf("read key from stdin: %w", err)
	}
	if key == "" {
		return "", errors.New("no key on stdin: pipe it in, e.g. `ferry key set < keyfile`")
	}
	return key, nil
}

// readSecretLine reads one line of stdin, trimmed. On a terminal it
// prompts on stderr and turns echo off while the line is typed, so the
// secret stays out of the screen and its scrollback (issue 14).
func readSecretLine(env Env, prompt string) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func runUsage(args []string, env Env) error {
	s := newSubcommand("ferry usage", env)
	since := s.fs.String("since", "7d", "how far back, e.g. 24h, 7d, 30d")
	by := s.fs.String("by", "model", "group by model, day or route")
	asCSV := s.fs.Bool("csv", false, "CSV export")
	asJSON := s.fs.Bool("json", false, "JSON export")
	if err := s.parse(args); err != nil {
		return err
	}
	if _, err := usage.ParseSpan(*since); err != nil { // the endpoint's own rule, checked before connecting
		return err
	}
	format := "table"
	switch {
	case *asCSV && *asJSON:
		return s.usage("ferry usage: --csv or --json, not both")
	case *asCSV:
		format = "csv"
	case *asJSON:
		format = "json"
	}
	return s.run(func(ctx context.Context, a *admin) error {
		q := url.Values{"since": {*since}, "by": {*by}}
		var rep usage.UsageReport
		if err := a.do(ctx, http.MethodGet, "/_ferry/usage?"+q.Encode(), nil, &rep); err != nil {
			return err
		}
		switch format {
		case "csv":
			return usage.WriteUsageCSV(env.Stdout, rep)
		case "json":
			return usage.WriteUsageJSON(env.Stdout, rep)
		}
		return usage.WriteUsageTable(env.Stdout, rep)
	})
}

func runPrices(args []string, env Env) error {
	s := newSubcommand("ferry prices", env)
	if err := s.parse(args); err != nil {
		return err
	}
	const line = "ferry prices list | export | import FILE|- | set MODEL JSON-ROW | reset"
	if len(s.args) == 0 {
		return s.usage(line)
	}
	rest := s.args[1:]
	switch s.arg(0) {
	case "list", "export":
		return s.run(func(ctx context.Context, a *admin) error {
			var raw []byte
			if err := a.do(ctx, http.MethodGet, "/_ferry/prices", nil, &raw); err != nil {
				return err
			}
			if s.arg(0) == "export" {
				_, err := env.Stdout.Write(raw)
				return err
			}
			var t usage.PriceTable
			if err := json.Unmarshal(raw, &t); err != nil {
				return fmt.Errorf("read price table: %w", err)
			}
			return usage.WritePricesTable(env.Stdout, t)
		})
	case "import":
		if len(rest) != 1 {
			return s.usage("ferry prices import FILE|-")
		}
		var data []byte
		var err error
		if rest[0] == "-" {
			data, err = io.ReadAll(env.Stdin)
		} else {
			data, err = os.ReadFile(rest[0])
		}
		if err != nil {
			return fmt.Errorf("read prices: %w", err)
		}
		return s.say(http.MethodPost, "/_ferry/prices", data, "Prices imported.")
	case "set":
		if len(rest) != 2 {
			return s.usage(`ferry prices set MODEL '{"input":3,"output":15,"cache_write_5m":3.75,"cache_write_1h":6,"cache_read":0.3}'`)
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(rest[1]), &row); err != nil {
			return fmt.Errorf("price row is not JSON: %w", err)
		}
		row["model"] = rest[0]
		return s.say(http.MethodPut, "/_ferry/prices", row, fmt.Sprintf("Price for %s set.", rest[0]))
	case "reset":
		return s.say(http.MethodDelete, "/_ferry/prices", nil, "Prices reset to the defaults.")
	}
	return s.usage(line)
}

func runRoutes(args []string, env Env) error {
	s := newSubcommand("ferry routes", env)
	pwStdin := s.fs.Bool("password-stdin", false, "with add: read the proxy's password from stdin (not shown on a terminal), never from the command line")
	if err := s.parse(args); err != nil {
		return err
	}
	const line = "ferry routes list | add NAME URL | remove NAME | use NAME | auto | test | set NAME KEY=VALUE | forget NAME"
	if len(s.args) == 0 {
		return s.usage(line)
	}
	rest := s.args[1:]
	switch s.arg(0) {
	case "list", "test":
		method, path := http.MethodGet, "/_ferry/routes"
		if s.arg(0) == "test" {
			method, path = http.MethodPost, "/_ferry/routes/test"
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var out app.RoutesView
			if err := a.do(ctx, method, path, nil, &out); err != nil {
				return err
			}
			printRoutes(env.Stdout, out)
			return nil
		})
	case "add":
		if len(rest) != 2 {
			return s.usage("ferry routes add NAME URL [--password-stdin]   (URL: direct, socks5://[user@]host:port, http://… or https://…)")
		}
		u := rest[1]
		switch {
		case *pwStdin:
			var err error
			if u, err = withStdinPassword(u, env); err != nil {
				return err
			}
		case hasPassword(u):
			fmt.Fprintln(env.Stderr, passwordOnCommandLine("the route's URL", "remove the route and add it again with the password on stdin: `ferry routes add NAME socks5://USER@HOST:PORT --password-stdin`"))
		}
		return s.say(http.MethodPost, "/_ferry/routes", map[string]string{"name": rest[0], "url": u}, fmt.Sprintf("Route %q added.", rest[0]))
	case "remove":
		if len(rest) != 1 {
			return s.usage("ferry routes remove NAME")
		}
		return s.say(http.MethodDelete, "/_ferry/routes?name="+url.QueryEscape(rest[0]), nil, fmt.Sprintf("Route %q removed.", rest[0]))
	case "set":
		k, v, ok := "", "", len(rest) == 2
		if ok {
			k, v, ok = strings.Cut(rest[1], "=")
		}
		if !ok {
			return s.usage("ferry routes set NAME KEY=VALUE   (keys: " + strings.Join(route.Fields, ", ") +
				"; region=LABEL, http=auto|1.1|2, tls_key_share=auto|classic|pq)")
		}
		return s.say(http.MethodPost, "/_ferry/routes/set", map[string]string{"name": rest[0], "key": k, "value": v},
			fmt.Sprintf("Route %q: %s=%s.", rest[0], k, v))
	case "forget":
		if len(rest) != 1 {
			return s.usage("ferry routes forget NAME")
		}
		return s.say(http.MethodPost, "/_ferry/routes/forget", map[string]string{"name": rest[0]},
			fmt.Sprintf("Route %q forgot what it learnt (HTTP/1.1 fallback, classic key shares).", rest[0]))
	case "use", "auto":
		choice := "auto"
		if s.arg(0) == "use" {
			if len(rest) != 1 {
				return s.usage("ferry routes use NAME")
			}
			choice = rest[0]
		}
		return s.run(func(ctx context.Context, a *admin) error {
			if err := a.do(ctx, http.MethodPost, "/_ferry/routes/use", map[string]string{"choice": choice}, nil); err != nil {
				return err
			}
			if choice == "auto" {
				fmt.Fprintln(env.Stdout, "Route: Auto (fastest healthy route).")
			} else {
				fmt.Fprintf(env.Stdout, "Route: %s.\n", choice)
			}
			return nil
		})
	}
	return s.usage(line)
}

// withStdinPassword puts the password read from stdin into a proxy URL
// that names a user and no password.
func withStdinPassword(raw string, env Env) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("--password-stdin: %q is not a proxy URL such as socks5://USER@HOST:PORT", raw)
	}
	if u.User == nil || u.User.Username() == "" {
		return "", errors.New("--password-stdin: the URL names no user; write it as socks5://USER@HOST:PORT")
	}
	if _, ok := u.User.Password(); ok {
		return "", errors.New("--password-stdin: the URL already holds a password; leave it out of the URL")
	}
	pw, err := readSecretLine(env, "Proxy password for "+u.User.Username()+" (it is not shown): ")
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	if pw == "" {
		return "", errors.New("--password-stdin: no password on stdin")
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String(), nil
}

func printRoutes(w io.Writer, v app.RoutesView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tNAME\tURL\tSTATE\tLATENCY\tCONNECT\tHANDSHAKE\tTLS\tH2 PING\tNOTES\tLAST ERROR")
	for _, r := range v.Routes {
		mark := ""
		if r.Current {
			mark = "*"
		}
		state, lat := "untested", "-"
		if !r.Checked.IsZero() {
			state = "down"
			if r.Up {
				state, lat = "up", ms(r.Latency)
			}
		}
		if r.Breaker == route.BreakerOpen {
			state = "down (breaker)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, usage.TerminalCell(r.Name), usage.TerminalCell(r.URL), state, lat,
			ms(r.Connect), ms(r.Handshake), ms(r.TLS), ms(r.Ping), usage.TerminalCell(routeNotes(r)), usage.TerminalCell(r.Err))
	}
	tw.Flush()
	if v.Choice == "auto" {
		fmt.Fprintln(w, "Choice: Auto (fastest healthy route); * marks the route in use.")
	} else {
		fmt.Fprintf(w, "Choice: %s\n", v.Choice)
	}
}

func ms(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// routeNotes says what is special about a route: its fields when not the
// defaults, what it learnt, a warm connection.
func routeNotes(r app.RouteView) string {
	var n []string
	if r.Region != "" {
		n = append(n, "region="+r.Region)
	}
	if r.HTTP != "" && r.HTTP != route.HTTPAuto {
		n = append(n, "http="+r.HTTP)
	}
	if r.KeyShare != "" && r.KeyShare != route.KeyShareAuto {
		n = append(n, "tls_key_share="+r.KeyShare)
	}
	if r.Learnt.HTTP1 {
		n = append(n, "learnt HTTP/1.1")
	}
	if !r.Learnt.ClassicSince.IsZero() {
		n = append(n, "learnt classic key shares "+r.Learnt.ClassicSince.Local().Format("2006-01-02 15:04"))
	}
	if r.Warm {
		n = append(n, "warm")
	}
	if len(n) == 0 {
		return "-"
	}
	return strings.Join(n, ", ")
}

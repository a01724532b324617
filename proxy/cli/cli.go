package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
)

// Desktop runs the tray app around a started server until the user quits.
// main hands it in; headless builds pass nil.
type Desktop func(ctx context.Context, srv *app.Server, firstRun bool) error

// Window runs `ferry window KIND`: the window process the desktop core
// starts on demand (ui/winproc). main hands it in; headless builds pass
// nil.
type Window func(args []string) error

// Env is what a command sees of the outside world, so tests can run
// commands in-process with their own streams and environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Version        string
	Desktop        Desktop
	Window         Window
}

// Main runs one ferry command line (without the program name) and returns
// the exit code.
func Main(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	cmd, rest := "", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "":
		err = runDesktop(rest, env)
	case "serve":
		err = runServe(rest, env)
	case "token":
		err = runToken(rest, env)
	case "key":
		err = runKey(rest, env)
	case "usage":
		err = runUsage(rest, env)
	case "prices":
		err = runPrices(rest, env)
	case "routes":
		err = runRoutes(rest, env)
	case "filters":
		err = runFilters(rest, env)
	case "config":
		err = runConfig(rest, env)
	case "cache":
		err = runCache(rest, env)
	case "budget":
		err = runBudget(rest, env)
	case "limits":
		err = runLimits(rest, env)
	case "quota":
		err = runQuota(rest, env)
	case "brake":
		err = runBrake(rest, env)
	case "events":
		err = runEvents(rest, env)
	case "window":
		if env.Window == nil {
			err = errors.New("this ferry was built without the desktop app (-tags headless)")
		} else {
			err = env.Window(rest)
		}
	case "db":
		err = runDB(rest, env)
	case "version":
		fmt.Fprintln(env.Stdout, "ferry", env.Version)
	case "help", "-h", "--help":
		printHelp(env.Stdout)
	default:
		fmt.Fprintf(env.Stderr, "ferry: unknown command %q\n\n", cmd)
		printHelp(env.Stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(env.Stderr, "ferry:", err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `Ferry: a local gateway for the Claude API.

Usage:
  ferry [flags]                 the tray app with the proxy (same flags as serve)
  ferry serve [flags]           the proxy alone, headless, until SIGINT/SIGTERM
  ferry token [--regenerate]    print the local token clients send instead of your key
  ferry key set|clear|status    the Anthropic API key Ferry holds (set reads it from stdin)
  ferry usage [--since 7d] [--by model|day|route] [--csv|--json]
  ferry prices list|set|import|export|reset
  ferry routes list|add NAME URL|remove NAME|use NAME|auto|test|set NAME KEY=VALUE|forget NAME
  ferry filters list|show|add|remove|import|export|enable|disable|mode|delete|test
  ferry config list|get KEY|set KEY VALUE|reset KEY
  ferry cache stats|clear [--older-than D]   the dedup cache
  ferry budget list|set NAME AMOUNT [--mode soft|hard] [--basis billed|api_equivalent]|clear NAME|allow 1h
  ferry limits list|set NAME VALUE
  ferry quota [--json]          the subscription's 5-hour and weekly quota
  ferry brake list|release SESSION
  ferry events                  print the running Ferry's events as they happen (server-sent events)
  ferry db compact              rewrite ferry.db without its free pages (Ferry stopped)
  ferry version

Point clients at Ferry:  export ANTHROPIC_BASE_URL=http://127.0.0.1:7856
Run "ferry serve --help" for every flag and its FERRY_* variable.
`)
}

// newLogger logs to stderr; FERRY_LOG_LEVEL=debug shows more.
func newLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(getenv("FERRY_LOG_LEVEL")))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func parseServe(name string, args []string, env Env) (app.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	opts := serveFlags(fs)
	fs.Usage = func() {
		usageWithEnv(env.Stdout, fs, "Usage: "+name+" [flags]")
		fmt.Fprintln(env.Stdout, "\n  [FERRY_API_KEY]\n      an Anthropic API key for this run (never stored); or store one with `ferry key set`")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return app.Config{}, err
		}
		return app.Config{}, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return app.Config{}, errUsage
	}
	cfg, err := opts.finish(fs, env.Getenv)
	if err != nil {
		return cfg, err
	}
	for _, w := range opts.warnings {
		fmt.Fprintln(env.Stderr, w)
	}
	cfg.Version = env.Version
	cfg.Logger = newLogger(env.Stderr, env.Getenv)
	return cfg, nil
}

func runServe(args []string, env Env) error {
	cfg, err := parseServe("ferry serve", args, env)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := app.Open(cfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Stop(context.Background())
		return err
	}
	fmt.Fprintf(env.Stderr, "Ferry %s listening on %s (route: %s)\n  export ANTHROPIC_BASE_URL=%s\n",
		env.Version, srv.Listen(), srv.RouteDescription(), srv.BaseURL())
	select {
	case <-ctx.Done():
	case <-srv.Done():
	}
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), srv.Config().DrainTimeout+5*time.Second)
	defer cancel()
	return srv.Stop(shutdownCtx)
}

func runDesktop(args []string, env Env) error {
	cfg, err := parseServe("ferry", args, env)
	if err != nil {
		return err
	}
	if env.Desktop == nil {
		return errors.New("this ferry was built without the desktop app (-tags headless): run `ferry serve`")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second launch asks the running Ferry to show its dashboard.
	if a := running(ctx, cfg.DataDir, env.Stderr); a != nil {
		if err := a.do(ctx, "POST", "/_ferry/ui/show", nil, nil); err != nil {
			return fmt.Errorf("Ferry already runs on this data dir, but did not open its dashboard: %w", err)
		}
		fmt.Fprintln(env.Stderr, "Ferry is already running: opened its dashboard.")
		return nil
	}
	srv, err := app.Open(cfg)
	if err != nil {
		return err
	}
	firstRun := srv.FirstRun()
	if err := srv.Start(ctx); err != nil {
		// The desktop still opens, to tell the user why (port in use and the fix).
		srv.ReportStartError(err)
	}
	derr := env.Desktop(ctx, srv, firstRun)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), srv.Config().DrainTimeout+5*time.Second)
	defer cancel()
	return errors.Join(derr, srv.Stop(shutdownCtx))
}

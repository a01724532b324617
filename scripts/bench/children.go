package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
)

// runBare is the child process: a bare ReverseProxy to -upstream.
func runBare(args []string) int {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address")
	upstream := fs.String("upstream", "", "upstream base URL")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof here")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		return 1
	}
	defer stopProfile()
	up, err := url.Parse(*upstream)
	if err != nil || up.Host == "" {
		fmt.Fprintf(os.Stderr, "bare: -upstream %q: want a URL\n", *upstream)
		return 2
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up)
			pr.Out.Host = up.Host
		},
		FlushInterval: -1,
		// The same pool as Ferry's route transport, so that the comparison
		// is about the proxies, not their pool sizes.
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 20 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:   true,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without it the server closes the request body once the response
		// starts, which truncates streams (golang/go#40747).
		_ = http.NewResponseController(w).EnableFullDuplex()
		rp.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		return 1
	}
	if *pprofAddr != "" {
		go func() {
			// http.DefaultServeMux holds net/http/pprof's handlers.
			srv := &http.Server{Addr: *pprofAddr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintln(os.Stderr, "bare: pprof:", srv.ListenAndServe())
		}()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	fmt.Println("bare", "http://"+ln.Addr().String())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "bare:", err)
		return 1
	}
	return 0
}

// startCPUProfile profiles this process into path ("" = no profile) until
// the returned function runs.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// runFerryCore is the child process of -profile: Ferry's core assembled by
// app.Open and Start with the configuration `ferry serve` builds from the
// benchmark's flags (and its logger: text lines on stderr at info level),
// under a CPU profile. It prints "ferry URL TOKEN".
func runFerryCore(args []string) int {
	fs := flag.NewFlagSet("ferry-core", flag.ContinueOnError)
	apiBase := fs.String("api-base", "", "upstream base URL")
	data := fs.String("data-dir", "", "data dir")
	storeBodies := fs.Bool("store-bodies", false, "store bodies")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	stopProfile, err := startCPUProfile(*cpuprofile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferry-core:", err)
		return 1
	}
	defer stopProfile()
	return serveCore("ferry-core", coreConfig(*apiBase, *data, *storeBodies), func(_ context.Context, srv *app.Server) (func(), error) {
		fmt.Println("ferry", srv.BaseURL(), srv.Keys().LocalToken())
		return func() {}, nil
	})
}

// serveCore is the life of a core child: Ferry's core opened and started
// with cfg as `ferry serve` does, announced (announce prints the child's
// line and may start more; what it returns runs once the child is told to
// stop), then stopped on SIGINT or SIGTERM. It returns the exit code.
func serveCore(name string, cfg app.Config, announce func(ctx context.Context, srv *app.Server) (after func(), err error)) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	srv, err := app.Open(cfg)
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return fail(err)
	}
	after, err := announce(ctx, srv)
	if err == nil {
		<-ctx.Done()
	} else {
		stop() // what announce started ends now
	}
	after()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if stopErr := srv.Stop(sctx); stopErr != nil && err == nil {
		err = fmt.Errorf("stop: %w", stopErr)
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// coreConfig is what `ferry serve` builds from the benchmark's flags, with
// its logger: text lines on stderr at info level.
func coreConfig(apiBase, data string, storeBodies bool) app.Config {
	cfg := app.Config{
		Listen: "127.0.0.1:0", APIBase: apiBase, Via: "direct", DataDir: data, APIKey: benchKey,
		Version: "bench", Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		// Thousands of requests a minute on one key: the default local
		// rate limit (100 a minute) would answer most of them.
		Overrides: []app.Override{{Key: limit.KeyRPM, Text: "0", From: "benchmark"}},
		Getenv: func(k string) string {
			if k == "FERRY_KEYRING" {
				return "off"
			}
			return ""
		},
	}
	// FERRY_BENCH_SET="cache.enabled=off,brake.enabled=off" overrides
	// settings in the core children (the recording pair and -profile), to
	// see what one stage costs: on − off of the recording phase with and
	// without it.
	for _, kv := range strings.Split(os.Getenv("FERRY_BENCH_SET"), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok {
			cfg.Overrides = append(cfg.Overrides, app.Override{Key: k, Text: v, From: "FERRY_BENCH_SET"})
		}
	}
	if storeBodies {
		cfg.StoreBodies = &storeBodies
	}
	return cfg
}

func startFerryCore(ctx context.Context, ps *procSet, c config, self, fakeURL string) (ferryProc, error) {
	data := filepath.Join(c.work, "ferry-data")
	if err := os.RemoveAll(data); err != nil {
		return ferryProc{}, fmt.Errorf("clear %s: %w", data, err)
	}
	args := []string{"ferry-core", "-api-base", fakeURL, "-data-dir", data, "-cpuprofile", filepath.Join(c.profile, "ferry.pprof")}
	if c.storeBodies {
		args = append(args, "-store-bodies")
	}
	p, line, err := startChild(ctx, ps, "ferry core", filepath.Join(c.work, "ferry.log"), nil, self, args...)
	if err != nil {
		return ferryProc{}, err
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		return ferryProc{}, fmt.Errorf("ferry core printed %q, want URL and token", line)
	}
	return ferryProc{pid: p.pid, url: f[0], token: f[1]}, nil
}

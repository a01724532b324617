// Command bench measures Ferry against the best a Go proxy can do, on
// loopback: it starts the fake Anthropic API (the fakeapi binary), a bare
// httputil.ReverseProxy (this program, re-run as a child process so that it
// has its own runtime like Ferry does) and `ferry serve`, drives all three
// with the same load and prints markdown tables for the README.
//
//	go run ./scripts/bench -ferry /tmp/ferry -fakeapi /tmp/fakeapi
//
// scripts/bench.sh builds both binaries and runs it. Phases:
//
//  1. latency: direct / bare proxy / Ferry at 1, 16 and 64 clients,
//     non-streaming (whole response) and streaming (time to first token),
//     rounds interleaved so that machine noise falls on all three alike;
//     throughput at the highest client count.
//  2. recording on vs off: Ferry's core with its usage meter and recorder
//     beside the same proxy handler without them, in one child process,
//     paced and back to back (recording.go).
//  3. 10,000 streams through Ferry, each compared byte for byte with the
//     body the fake sent (several scenarios, identity and gzip).
//  4. 1,000 concurrent open streams (the fake's slow scenario) while Ferry's
//     VmRSS and VmHWM are read from /proc; idle RSS after start.
//
// Ferry runs as users run it: recording every request to its database,
// metering usage, holding the API key and swapping it for its local token.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	_ "net/http/pprof" // served only by the bare proxy child, with -bare-pprof
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// benchKey is the key the clients (and Ferry, in local-token mode) send to
// the fake, which accepts any key.
const benchKey = "sk-ant-api03-bench-00000000000000000000000000000000"

type config struct {
	ferryBin, fakeBin, work string
	clients                 []int
	n                       int
	maxTime                 time.Duration
	rounds                  int
	bodyBytes               int
	largeBody               int
	largeClients            []int
	streams, streamClients  int
	open                    int
	openTotal               time.Duration
	storeBodies             bool
	skipLatency             bool
	recording               int
	skipIdentical           bool
	skipRSS                 bool
	barePprof               string
	profile                 string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		os.Exit(runBare(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "ferry-core" {
		os.Exit(runFerryCore(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "ferry-pair" {
		os.Exit(runFerryPair(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var c config
	var clients string
	flag.StringVar(&c.ferryBin, "ferry", "/tmp/ferry-bench/ferry", "headless ferry binary")
	flag.StringVar(&c.fakeBin, "fakeapi", "/tmp/ferry-bench/fakeapi", "fakeapi binary (proxy/testsupport/cmd/fakeapi)")
	flag.StringVar(&c.work, "work", "", "work dir for Ferry's data and logs (default: a new temp dir)")
	flag.StringVar(&clients, "clients", "1,16,64", "concurrent client counts for the latency phase; throughput is reported at the last")
	flag.IntVar(&c.n, "n", 5000, "requests per target, mode and client count (split over the rounds)")
	flag.DurationVar(&c.maxTime, "max-time", 4*time.Second, "longest time one target may spend on one slice of a round")
	flag.IntVar(&c.rounds, "rounds", 5, "interleaved rounds per mode and client count (direct, bare, Ferry in rotating order)")
	flag.IntVar(&c.bodyBytes, "body-bytes", 4096, "size of each request body (a padded prompt)")
	flag.IntVar(&c.largeBody, "large-body", 85000, "body size of a second latency table (Claude Code sends about 85 KB); 0 skips it")
	largeClients := flag.String("large-clients", "1,16", "client counts for the large-body table")
	flag.IntVar(&c.streams, "streams", 10000, "streams through Ferry checked byte for byte (0 skips)")
	flag.IntVar(&c.streamClients, "stream-clients", 16, "concurrent clients for the byte-identity phase")
	flag.IntVar(&c.open, "open", 1000, "concurrent open streams for the memory phase (0 skips)")
	flag.DurationVar(&c.openTotal, "open-total", 12*time.Second, "how long each of the open streams lasts")
	flag.BoolVar(&c.storeBodies, "store-bodies", false, "run Ferry with --store-bodies (prompt and answer bodies in the history)")
	flag.BoolVar(&c.skipLatency, "skip-latency", false, "skip the latency phase")
	flag.IntVar(&c.recording, "recording", 6000, "requests per target and mode in the recording on/off phase (0 skips)")
	flag.StringVar(&c.barePprof, "bare-pprof", "", "serve net/http/pprof of the bare proxy child on this address")
	flag.StringVar(&c.profile, "profile", "", "write CPU profiles of the bare proxy and of Ferry to this dir (bare.pprof, ferry.pprof); Ferry's core then runs in a child of this program (the same app.Open/Start as `ferry serve`) instead of the ferry binary")
	flag.Parse()
	c.skipIdentical = c.streams <= 0
	c.skipRSS = c.open <= 0
	var err error
	if c.clients, err = parseCounts(clients); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -clients:", err)
		return 2
	}
	if c.largeClients, err = parseCounts(*largeClients); err != nil {
		fmt.Fprintln(os.Stderr, "bench: -large-clients:", err)
		return 2
	}
	if c.rounds < 1 || c.n < c.rounds {
		fmt.Fprintln(os.Stderr, "bench: want -rounds ≥ 1 and -n ≥ -rounds")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive numbers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func bench(ctx context.Context, c config) error {
	if c.work == "" {
		dir, err := os.MkdirTemp("", "ferry-bench-")
		if err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		c.work = dir
	}
	if err := os.MkdirAll(c.work, 0o700); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	var procs procSet
	defer procs.stopAll()

	_, fakeURL, err := startChild(ctx, &procs, "fakeapi", filepath.Join(c.work, "fakeapi.log"), nil,
		c.fakeBin, "-listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("own executable: %w", err)
	}
	bareArgs := []string{"bare", "-listen", "127.0.0.1:0", "-upstream", fakeURL}
	if c.barePprof != "" {
		bareArgs = append(bareArgs, "-pprof", c.barePprof)
	}
	if c.profile != "" {
		if err := os.MkdirAll(c.profile, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
		bareArgs = append(bareArgs, "-cpuprofile", filepath.Join(c.profile, "bare.pprof"))
	}
	bare, bareURL, err := startChild(ctx, &procs, "bare proxy", filepath.Join(c.work, "bare.log"), nil, self, bareArgs...)
	if err != nil {
		return err
	}
	var ferry ferryProc
	if c.profile != "" {
		ferry, err = startFerryCore(ctx, &procs, c, self, fakeURL)
	} else {
		ferry, err = startFerry(ctx, &procs, c, fakeURL)
	}
	if err != nil {
		return err
	}
	idle, err := settleRSS(ctx, ferry.pid)
	if err != nil {
		return err
	}
	bareIdle, err := readRSS(bare.pid)
	if err != nil {
		return err
	}

	host, _ := os.Hostname()
	fmt.Printf("## Ferry benchmark\n\n")
	fmt.Printf("Loopback, %s, %d CPUs (`nproc`), load average at start %s; Go client, keep-alive; clients send their own key to the fake and the bare proxy, Ferry's local token to Ferry.\n",
		host, numCPU(), loadAvg())
	fmt.Printf("Ferry: `ferry serve` (headless build), recording every request to its database, usage metering, local token swapped for the held key%s.\n",
		map[bool]string{true: ", --store-bodies", false: ""}[c.storeBodies])
	if c.profile != "" {
		fmt.Printf("**Profiling run**: Ferry's core runs in a child of the bench program (app.Open/Start, as `ferry serve` does) under a CPU profile, and so does the bare proxy.\n")
	}
	fmt.Printf("Bare proxy: `httputil.ReverseProxy`, full duplex, FlushInterval -1, same pool sizes as Ferry's, in its own process.\n\n")

	targets := []target{
		{name: "direct", base: fakeURL, key: benchKey},
		{name: "bare proxy", base: bareURL, key: benchKey},
		{name: "Ferry", base: ferry.url, key: ferry.token},
	}
	for i := range targets {
		targets[i].client = newClient(0)
		targets[i].sent = new(atomic.Int64)
	}
	if !c.skipLatency {
		if err := latencyPhase(ctx, c, targets, c.bodyBytes, c.clients, c.n, "Latency (ms)", true); err != nil {
			return err
		}
		if c.largeBody > 0 {
			if err := latencyPhase(ctx, c, targets, c.largeBody, c.largeClients, c.n/2,
				"Latency (ms) with Claude Code-sized request bodies", false); err != nil {
				return err
			}
		}
	}
	if c.recording > 0 {
		if err := recordingPhase(ctx, c, &procs, self, fakeURL); err != nil {
			return err
		}
	}
	if !c.skipIdentical {
		if err := identityPhase(ctx, c, targets[2]); err != nil {
			return err
		}
	}
	{
		if err := memoryPhase(ctx, c, []target{targets[2], targets[1]}, []int{ferry.pid, bare.pid}, []rss{idle, bareIdle}); err != nil {
			return err
		}
	}
	if err := recorderCheck(ctx, targets[2]); err != nil {
		return err
	}
	fmt.Printf("Ferry's data and logs: %s\n", c.work)
	if c.profile != "" {
		fmt.Printf("CPU profiles (written when the children stop): go tool pprof -top %s %s\n",
			filepath.Join(c.profile, "ferry.pprof"), filepath.Join(c.profile, "bare.pprof"))
	}
	return nil
}

// ---------------------------------------------------------------- children

type proc struct {
	name string
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
}

type procSet struct {
	mu    sync.Mutex
	procs []*proc
}

func (ps *procSet) add(p *proc) {
	ps.mu.Lock()
	ps.procs = append(ps.procs, p)
	ps.mu.Unlock()
}

// stopAll ends the children this program started, newest first: SIGTERM,
// then SIGKILL after 15 s (Ferry drains and flushes its queue first).
func (ps *procSet) stopAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := len(ps.procs) - 1; i >= 0; i-- {
		p := ps.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			fmt.Fprintf(os.Stderr, "bench: %s (pid %d) did not stop in 15s; killing it\n", p.name, p.pid)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	ps.procs = nil
}

// startChild runs bin with args, stderr to logPath, and returns what the
// child prints after the first word of its first stdout line ("fakeapi URL",
// "bare URL", "ferry URL TOKEN").
func startChild(ctx context.Context, ps *procSet, name, logPath string, env []string, bin string, args ...string) (*proc, string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("%s stdout: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	ps.add(p)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		} else {
			line <- ""
		}
		io.Copy(io.Discard, out) // the pipe must never fill up
	}()
	select {
	case l := <-line:
		_, rest, ok := strings.Cut(l, " ")
		if !ok || rest == "" {
			return nil, "", fmt.Errorf("%s printed %q, want \"NAME URL ...\" (log: %s)", name, l, logPath)
		}
		return p, rest, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited at start (log: %s)", name, logPath)
	case <-time.After(20 * time.Second):
		return nil, "", fmt.Errorf("%s did not start within 20s (log: %s)", name, logPath)
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

type ferryProc struct {
	pid   int
	url   string
	token string
}

func startFerry(ctx context.Context, ps *procSet, c config, fakeURL string) (ferryProc, error) {
	data := filepath.Join(c.work, "ferry-data")
	if err := os.RemoveAll(data); err != nil {
		return ferryProc{}, fmt.Errorf("clear %s: %w", data, err)
	}
	logPath := filepath.Join(c.work, "ferry.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return ferryProc{}, fmt.Errorf("ferry log: %w", err)
	}
	args := []string{"serve", "--listen", "127.0.0.1:0", "--api-base", fakeURL, "--data-dir", data, "--via", "direct"}
	if c.storeBodies {
		args = append(args, "--store-bodies")
	}
	cmd := exec.Command(c.ferryBin, args...)
	cmd.Env = append(os.Environ(), "FERRY_KEYRING=off", "FERRY_API_KEY="+benchKey,
		"HTTPS_PROXY=", "HTTP_PROXY=", "ALL_PROXY=", "https_proxy=", "http_proxy=", "all_proxy=")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return ferryProc{}, fmt.Errorf("start ferry (%s): %w", c.ferryBin, err)
	}
	p := &proc{name: "ferry", cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	ps.add(p)

	// runtime.json names the address Ferry got; the health endpoint says
	// it serves.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rt, err := app.ReadRuntime(data)
		if err == nil && rt.PID == p.pid {
			base := rt.BaseURL()
			if healthy(ctx, base) {
				tok, err := ferryToken(ctx, c.ferryBin, data)
				if err != nil {
					return ferryProc{}, err
				}
				return ferryProc{pid: p.pid, url: base, token: tok}, nil
			}
		}
		select {
		case <-p.done:
			return ferryProc{}, fmt.Errorf("ferry exited at start (log: %s)", logPath)
		case <-ctx.Done():
			return ferryProc{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return ferryProc{}, fmt.Errorf("ferry did not serve within 30s (log: %s)", logPath)
		}
	}
}

func healthy(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ferry/health", nil)
	resp, err := newClient(1).Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// ferryToken asks the running Ferry for its local token, as a user would.
func ferryToken(ctx context.Context, bin, data string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "token", "--data-dir", data)
	cmd.Env = append(os.Environ(), "FERRY_KEYRING=off")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ferry token: %w", err)
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("ferry token printed %q", out)
	}
	return tok, nil
}

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
		Getenv: func(k string) string {
			if k == "FERRY_KEYRING" {
				return "off"
			}
			return ""
		},
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

// ---------------------------------------------------------------- load

type target struct {
	name   string
	base   string
	key    string
	client *http.Client
	sent   *atomic.Int64 // requests sent, to compare with Ferry's history
}

// newClient is a keep-alive client; maxConns 0 means unlimited. It never
// asks for compression, so every body is compared as the fake sent it.
func newClient(maxConns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2048,
		MaxIdleConnsPerHost: 2048,
		MaxConnsPerHost:     maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

func requestBody(size int, stream bool) []byte {
	head := `{"model":"claude-sonnet-4-5","max_tokens":1024,`
	if stream {
		head += `"stream":true,`
	}
	head += `"system":"`
	tail := `","messages":[{"role":"user","content":"Say hello in Chinese and English."}]}`
	pad := max(0, size-len(head)-len(tail))
	filler := strings.Repeat("You are a careful assistant. ", pad/29+1)[:pad]
	return []byte(head + filler + tail)
}

type result struct {
	latency time.Duration // non-streaming: whole response; streaming: to the first content delta
	total   time.Duration // to the end of the body
	body    []byte
	status  int
	gzipped bool // Content-Encoding: gzip
	err     error
}

var firstDelta = []byte("event: content_block_delta")

// do sends one request and reads the response to its end. keep keeps the
// body for the caller.
func do(ctx context.Context, t target, body []byte, stream bool, scenario string, gzipOK, keep bool) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("x-api-key", t.key)
	req.Header.Set("user-agent", "ferry-bench/1")
	if scenario != "" {
		req.Header.Set(testsupport.ScenarioHeader, scenario)
	}
	if gzipOK {
		req.Header.Set("accept-encoding", "gzip")
	}
	t.sent.Add(1)
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	r := result{status: resp.StatusCode, gzipped: resp.Header.Get("Content-Encoding") == "gzip"}
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	found := !stream || r.gzipped // a gzipped stream is timed to its end
	for {
		n, err := resp.Body.Read(chunk)
		if n > 0 {
			buf.Write(chunk[:n])
			if !found && bytes.Contains(buf.Bytes(), firstDelta) {
				found = true
				r.latency = time.Since(start)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = fmt.Errorf("read body: %w", err)
			break
		}
	}
	r.total = time.Since(start)
	if !stream || r.gzipped {
		r.latency = r.total
	}
	if stream && !found && r.err == nil {
		r.err = errors.New("stream without a content delta")
	}
	if keep {
		r.body = buf.Bytes()
	}
	return r
}

// drive runs up to n requests from conc clients, stopping early at
// deadline; it returns the latencies of the successful ones and the time
// the whole batch took.
func drive(ctx context.Context, t target, conc, n int, deadline time.Duration, body []byte, stream bool) ([]time.Duration, time.Duration, int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	lat := make([][]time.Duration, conc)
	var failures atomic.Int64
	var firstErr atomic.Value
	end := time.Now().Add(deadline)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && time.Now().Before(end) && ctx.Err() == nil {
				r := do(ctx, t, body, stream, "", false, false)
				if r.err != nil || r.status != http.StatusOK {
					failures.Add(1)
					if r.err == nil {
						r.err = fmt.Errorf("status %d", r.status)
					}
					firstErr.CompareAndSwap(nil, r.err)
					continue
				}
				lat[i] = append(lat[i], r.latency)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if f := failures.Load(); f > 0 {
		return all, elapsed, int(f), fmt.Errorf("%s: %d requests failed, first: %v", t.name, f, firstErr.Load())
	}
	return all, elapsed, 0, ctx.Err()
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func msf(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

type cell struct {
	lat     []time.Duration
	elapsed time.Duration
}

func (c cell) p50() time.Duration { return pct(c.lat, 0.50) }
func (c cell) p99() time.Duration { return pct(c.lat, 0.99) }
func (c cell) rps() float64 {
	if c.elapsed <= 0 {
		return 0
	}
	return float64(len(c.lat)) / c.elapsed.Seconds()
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// latencyPhase measures one body size at the given client counts and
// prints its table; with throughput, also the throughput at the last count.
func latencyPhase(ctx context.Context, c config, targets []target, bodyBytes int, clients []int, n int, title string, throughput bool) error {
	type key struct {
		stream bool
		conc   int
	}
	cells := map[key][]cell{}
	for _, stream := range []bool{false, true} {
		body := requestBody(bodyBytes, stream)
		for _, conc := range clients {
			res := make([]cell, len(targets))
			per := max(1, n/c.rounds)
			for round := range c.rounds {
				for j := range targets {
					ti := (j + round) % len(targets)
					t := targets[ti]
					// Warm the pools: conc connections, each used once.
					if _, _, _, err := drive(ctx, t, conc, 2*conc, c.maxTime, body, stream); err != nil {
						return fmt.Errorf("warm-up: %w", err)
					}
					lat, el, _, err := drive(ctx, t, conc, per, c.maxTime, body, stream)
					if err != nil {
						return err
					}
					res[ti].lat = append(res[ti].lat, lat...)
					res[ti].elapsed += el
				}
			}
			for i := range res {
				slices.Sort(res[i].lat)
			}
			cells[key{stream, conc}] = res
			fmt.Fprintf(os.Stderr, "bench: %d-byte bodies, %s, %d clients: direct %d, bare %d, Ferry %d requests\n",
				bodyBytes, map[bool]string{false: "non-streaming", true: "streaming"}[stream], conc,
				len(res[0].lat), len(res[1].lat), len(res[2].lat))
		}
	}

	fmt.Printf("### %s\n\n", title)
	fmt.Printf("Request bodies of %d bytes. Non-streaming: request sent → whole response read. Streaming: request sent → first `content_block_delta` (time to first token). ", bodyBytes)
	fmt.Printf("Up to %d requests per cell in %d interleaved rounds. *Added* = proxy − direct at the same percentile; the goal is Ferry's added ≤ 1.25× the bare proxy's.\n\n", n, c.rounds)
	fmt.Println("| load | clients | direct p50 / p99 | bare proxy p50 / p99 | Ferry p50 / p99 | bare added p50 / p99 | Ferry added p50 / p99 | Ferry ÷ bare added p50 / p99 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, stream := range []bool{false, true} {
		for _, conc := range clients {
			r := cells[key{stream, conc}]
			d, b, f := r[0], r[1], r[2]
			bAdd50, bAdd99 := b.p50()-d.p50(), b.p99()-d.p99()
			fAdd50, fAdd99 := f.p50()-d.p50(), f.p99()-d.p99()
			fmt.Printf("| %s | %d | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s |\n",
				map[bool]string{false: "non-streaming", true: "streaming TTFT"}[stream], conc,
				msf(d.p50()), msf(d.p99()), msf(b.p50()), msf(b.p99()), msf(f.p50()), msf(f.p99()),
				msf(bAdd50), msf(bAdd99), msf(fAdd50), msf(fAdd99), ratio(fAdd50, bAdd50), ratio(fAdd99, bAdd99))
		}
	}
	fmt.Println()
	if !throughput {
		return nil
	}
	top := clients[len(clients)-1]
	fmt.Printf("### Throughput at %d clients (requests/s)\n\n", top)
	fmt.Println("| load | direct | bare proxy | Ferry | Ferry ÷ bare (goal ≥ 0.8) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, stream := range []bool{false, true} {
		r := cells[key{stream, top}]
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.2f |\n", map[bool]string{false: "non-streaming", true: "streaming (whole stream)"}[stream],
			r[0].rps(), r[1].rps(), r[2].rps(), r[2].rps()/r[1].rps())
	}
	fmt.Println()
	return nil
}

// ---------------------------------------------------------------- identity

// identityScenarios are the streams of the byte-identity phase, in turn.
var identityScenarios = []struct {
	scenario string
	gzip     bool
}{
	{testsupport.ScenarioStream, false},
	{testsupport.ScenarioToolUse, false},
	{testsupport.ScenarioThinking, false},
	{testsupport.ScenarioUnknownEvent, false},
	{testsupport.ScenarioUTF8Split + ";split_gap=1ms", false},
	{testsupport.ScenarioLarge + ";frames=300", false},
	{testsupport.ScenarioStream + ";gzip=accepted", true},
	{testsupport.ScenarioThinking + ";gzip=accepted", true},
}

func identityPhase(ctx context.Context, c config, ferry target) error {
	// The fake's bodies are deterministic: plain, and gzipped when the
	// request Ferry sent upstream offered gzip (Ferry offers identity for
	// streams, so that a broken stream can still be repaired).
	want := make([][]byte, len(identityScenarios))
	wantGzip := make([][]byte, len(identityScenarios))
	for i, s := range identityScenarios {
		var err error
		if want[i], err = testsupport.Body(s.scenario); err != nil {
			return fmt.Errorf("expected body of %s: %w", s.scenario, err)
		}
		if s.gzip {
			if wantGzip[i], err = testsupport.GzipBody(s.scenario); err != nil {
				return fmt.Errorf("expected gzip body of %s: %w", s.scenario, err)
			}
		}
	}
	var gzipped atomic.Int64
	body := requestBody(c.bodyBytes, true)
	var next, identical, truncated, differing, failed atomic.Int64
	var firstProblem atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range c.streamClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(c.streams) || ctx.Err() != nil {
					return
				}
				k := int(i) % len(identityScenarios)
				s := identityScenarios[k]
				r := do(ctx, ferry, body, true, s.scenario, s.gzip, true)
				exp := want[k]
				if r.gzipped {
					gzipped.Add(1)
					exp = wantGzip[k]
				}
				switch {
				case r.err != nil || r.status != http.StatusOK:
					failed.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: status %d, %v", s.scenario, r.status, r.err))
					if len(r.body) < len(exp) && bytes.HasPrefix(exp, r.body) {
						truncated.Add(1)
					}
				case bytes.Equal(r.body, exp):
					identical.Add(1)
				case len(r.body) < len(exp) && bytes.HasPrefix(exp, r.body):
					truncated.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: truncated at %d of %d bytes", s.scenario, len(r.body), len(exp)))
				default:
					differing.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: %d bytes differ from the %d expected", s.scenario, len(r.body), len(exp)))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	el := time.Since(start)
	names := make([]string, len(identityScenarios))
	for i, s := range identityScenarios {
		names[i] = "`" + s.scenario + "`"
	}
	fmt.Printf("### %d streams through Ferry, byte for byte\n\n", c.streams)
	fmt.Printf("%d concurrent clients, scenarios in turn: %s; the `gzip=accepted` ones are sent with `Accept-Encoding: gzip` (%d responses came gzipped and were compared compressed; Ferry offers streams identity upstream). Goal: 0 truncated, all identical.\n\n",
		c.streamClients, strings.Join(names, ", "), gzipped.Load())
	fmt.Println("| streams | byte-identical | truncated | differing | failed | time |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| %d | %d | %d | %d | %d | %.1f s |\n\n", c.streams, identical.Load(), truncated.Load(), differing.Load(), failed.Load(), el.Seconds())
	if p := firstProblem.Load(); p != nil {
		fmt.Printf("First problem: %s\n\n", p)
	}
	return nil
}

// ---------------------------------------------------------------- memory

type rss struct{ rssKB, hwmKB int64 }

func readRSS(pid int) (rss, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rss{}, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	var r rss
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			r.rssKB = n
		case "VmHWM:":
			r.hwmKB = n
		}
	}
	return r, nil
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// settleRSS waits two seconds after start (the first probe, the recorder's
// first flush) and reads the idle RSS.
func settleRSS(ctx context.Context, pid int) (rss, error) {
	select {
	case <-ctx.Done():
		return rss{}, ctx.Err()
	case <-time.After(2 * time.Second):
	}
	return readRSS(pid)
}

// openResult is what one proxy did with the open streams.
type openResult struct {
	idle, before, peak, settled rss
	opened, identical           int64
	openTook                    time.Duration
	problem                     string
}

// memoryPhase opens c.open slow streams at once through each proxy in
// turn (Ferry, then the bare proxy for comparison) and samples the proxy's
// memory until they end.
func memoryPhase(ctx context.Context, c config, proxies []target, pids []int, idle []rss) error {
	fmt.Printf("### Memory (/proc/PID/status)\n\n")
	if c.skipRSS {
		fmt.Println("| process | idle after start (VmRSS) | goal |")
		fmt.Println("|---|---:|---|")
		for i, t := range proxies {
			fmt.Printf("| %s | %s | %s |\n", t.name, mb(idle[i].rssKB), map[bool]string{true: "< 25 MB", false: ""}[i == 0])
		}
		fmt.Println()
		return nil
	}
	scenario := fmt.Sprintf("%s;gap=1s;total=%s", testsupport.ScenarioSlow, c.openTotal)
	want, err := testsupport.Body(scenario)
	if err != nil {
		return fmt.Errorf("expected body of %s: %w", scenario, err)
	}
	res := make([]openResult, len(proxies))
	for i, t := range proxies {
		res[i], err = openStreams(ctx, c, t, pids[i], scenario, want)
		if err != nil {
			return err
		}
		res[i].idle = idle[i]
	}
	fmt.Printf("%d streams of `%s` opened at once through each proxy in turn; RSS sampled every 200 ms until they ended; VmHWM is the process's peak over the whole run. Goals for Ferry: idle < 25 MB, %d open streams < 150 MB.\n\n",
		c.open, scenario, c.open)
	fmt.Println("| process | idle after start | before the streams | peak VmRSS, streams open | VmHWM | all open after | streams complete and identical | 3 s after they ended |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, t := range proxies {
		r := res[i]
		fmt.Printf("| %s | %s | %s | %s | %s | %.1f s | %d / %d | %s |\n", t.name, mb(r.idle.rssKB), mb(r.before.rssKB), mb(r.peak.rssKB),
			mb(r.peak.hwmKB), r.openTook.Seconds(), r.identical, c.open, mb(r.settled.rssKB))
	}
	fmt.Println()
	for i, t := range proxies {
		if res[i].problem != "" {
			fmt.Printf("%s, first problem: %s\n\n", t.name, res[i].problem)
		}
	}
	return nil
}

func openStreams(ctx context.Context, c config, t target, pid int, scenario string, want []byte) (openResult, error) {
	var out openResult
	var err error
	if out.before, err = readRSS(pid); err != nil {
		return out, err
	}
	cl := newClient(0)
	defer cl.CloseIdleConnections()
	t.client = cl
	body := requestBody(c.bodyBytes, true)
	var started, identical atomic.Int64
	var firstProblem atomic.Value
	allStarted := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	openAt := time.Now()
	for i := range c.open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := doOpen(ctx, t, body, scenario, func() {
				if started.Add(1) == int64(c.open) {
					once.Do(func() { close(allStarted) })
				}
			})
			if r.err == nil && r.status == http.StatusOK && bytes.Equal(r.body, want) {
				identical.Add(1)
				return
			}
			firstProblem.CompareAndSwap(nil, fmt.Sprintf("stream %d: status %d, %d of %d bytes, %v", i, r.status, len(r.body), len(want), r.err))
		}()
		if i%100 == 99 {
			time.Sleep(20 * time.Millisecond) // spread the connects over the accept backlog
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-allStarted:
	case <-done:
	case <-ctx.Done():
	}
	out.opened, out.openTook = started.Load(), time.Since(openAt)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		if r, err := readRSS(pid); err == nil {
			out.peak.rssKB = max(out.peak.rssKB, r.rssKB)
			out.peak.hwmKB = max(out.peak.hwmKB, r.hwmKB)
		}
		select {
		case <-done:
			running = false
		case <-tick.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	cl.CloseIdleConnections()
	time.Sleep(3 * time.Second)
	if out.settled, err = readRSS(pid); err != nil {
		return out, err
	}
	out.peak.hwmKB = max(out.peak.hwmKB, out.settled.hwmKB)
	out.identical = identical.Load()
	if p, ok := firstProblem.Load().(string); ok {
		out.problem = p
	}
	return out, nil
}

// doOpen is do for the memory phase: it calls first when the response
// headers arrived, so the caller knows the stream is open.
func doOpen(ctx context.Context, t target, body []byte, scenario string, first func()) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		first()
		return result{err: err}
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("x-api-key", t.key)
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	t.sent.Add(1)
	resp, err := t.client.Do(req)
	first()
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: b, err: err}
}

// ---------------------------------------------------------------- records

// recorderCheck reports what Ferry's own history says about the run: every
// request recorded, none dropped from the queue.
func recorderCheck(ctx context.Context, ferry target) error {
	// The recorder flushes at least every second.
	time.Sleep(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ferry.base+"/_ferry/stats?window=1h", nil)
	resp, err := ferry.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET /_ferry/stats: %w", err)
	}
	defer resp.Body.Close()
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return fmt.Errorf("decode /_ferry/stats: %w", err)
	}
	fmt.Printf("Ferry's own history after the run (`/_ferry/stats?window=1h`): %v requests recorded of %d sent, success rate %v, records dropped from the queue %v.\n\n",
		s["requests"], ferry.sent.Load(), s["success_rate"], s["queue_dropped"])
	return nil
}

// ---------------------------------------------------------------- machine

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + boolInt(bytes.HasPrefix(b, []byte("processor")))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

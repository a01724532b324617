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
//     throughput at the highest client count (latency.go).
//  2. recording on vs off: Ferry's core with its usage meter and recorder
//     beside the same proxy handler without them, in one child process,
//     paced and back to back (recording.go).
//  3. 10,000 streams through Ferry, each compared byte for byte with the
//     body the fake sent (several scenarios, identity and gzip)
//     (identity.go).
//  4. 1,000 concurrent open streams (the fake's slow scenario) while Ferry's
//     VmRSS and VmHWM are read from /proc; idle RSS after start
//     (memory.go).
//
// One file per phase; the processes it starts (procs.go, children.go), the
// load generator (client.go), Ferry's own history after the run
// (history.go) and the machine's description (machine.go) beside them.
// Ferry runs as users run it: recording every request to its database,
// metering usage, holding the API key and swapping it for its local token.
package main

import (
	"context"
	"flag"
	"fmt"
	_ "net/http/pprof" // served only by the bare proxy child, with -bare-pprof
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
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

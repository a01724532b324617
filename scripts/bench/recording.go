package main

// The recording phase answers the usage-history issue's speed goal:
// "recording adds no measurable latency to a request (proxy overhead with
// recording on vs off within noise)". The clients run in this process and
// Ferry in a child, as users run them; go test's BenchmarkRecording keeps
// client and proxy in one process, where the Go scheduler runs Ferry's
// bookkeeping goroutine before it notices that the client's socket became
// readable, which no client in another process waits for.

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/server"
)

// runFerryPair is the child of the recording phase: Ferry's core as
// `ferry serve` assembles it (recording on), and on two more listeners the
// same proxy handler with the same route, keys, bus and logger but without
// the usage observer and recorder (recording off, twice, so that the
// difference between two identical targets shows the noise). It prints
// "pair ON OFF OFF2 TOKEN".
func runFerryPair(args []string) int {
	fs := flag.NewFlagSet("ferry-pair", flag.ContinueOnError)
	apiBase := fs.String("api-base", "", "upstream base URL")
	data := fs.String("data-dir", "", "data dir")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "ferry-pair:", err)
		return 1
	}
	cfg := coreConfig(*apiBase, *data, false)
	srv, err := server.Open(cfg)
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		return fail(err)
	}
	base, err := url.Parse(*apiBase)
	if err != nil {
		return fail(err)
	}
	offURLs := make([]string, 2)
	served := make(chan error, len(offURLs))
	for i := range offURLs {
		p, err := proxy.New(proxy.Options{APIBase: base, Routes: srv.Routes(), Keys: srv.Keys(), Bus: srv.Bus(), Logger: cfg.Logger})
		if err != nil {
			return fail(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		offURLs[i] = "http://" + ln.Addr().String()
		go func() { served <- p.Serve(ctx, ln) }()
	}
	fmt.Println("pair", srv.BaseURL(), offURLs[0], offURLs[1], srv.Keys().LocalToken())
	<-ctx.Done()
	for range offURLs {
		if err := <-served; err != nil {
			fmt.Fprintln(os.Stderr, "ferry-pair: recording off:", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(sctx); err != nil {
		return fail(fmt.Errorf("stop: %w", err))
	}
	return 0
}

// recordingPhase drives the three targets of a ferry-pair child one
// request at a time in shuffled order, paced (one request every 2 ms, the
// latency a user sees) and back to back (one client saturating a core,
// where every µs of CPU shows), and prints the table.
func recordingPhase(ctx context.Context, c config, ps *procSet, self, fakeURL string) error {
	data := filepath.Join(c.work, "pair-data")
	if err := os.RemoveAll(data); err != nil {
		return fmt.Errorf("clear %s: %w", data, err)
	}
	_, line, err := startChild(ctx, ps, "ferry pair", filepath.Join(c.work, "pair.log"), nil, self,
		"ferry-pair", "-api-base", fakeURL, "-data-dir", data)
	if err != nil {
		return err
	}
	f := strings.Fields(line)
	if len(f) != 4 {
		return fmt.Errorf("ferry pair printed %q, want three URLs and a token", line)
	}
	targets := []target{
		{name: "on", base: f[0], key: f[3]},
		{name: "off", base: f[1], key: f[3]},
		{name: "off′", base: f[2], key: f[3]},
	}
	for i := range targets {
		targets[i].client = newClient(0)
		targets[i].sent = new(atomic.Int64)
	}

	type measure struct {
		name   string
		stream bool
		total  bool // streams: to the end of the body, else to the first token
	}
	measures := []measure{{"non-streaming", false, false}, {"streaming, first token", true, false}, {"streaming, whole stream", true, true}}
	type row struct {
		m      measure
		paced  bool
		lat    [][]time.Duration  // per target
		rounds [][3]time.Duration // p50 per round and target
	}
	var rows []row
	per := max(1, c.recording/c.rounds)
	for _, paced := range []bool{true, false} {
		for _, stream := range []bool{false, true} {
			body := requestBody(c.bodyBytes, stream)
			first, whole := row{paced: paced, lat: make([][]time.Duration, 3)}, row{paced: paced, lat: make([][]time.Duration, 3)}
			for _, t := range targets {
				for range 20 { // warm the connection and the caches
					if r := do(ctx, t, body, stream, "", false, false); r.err != nil {
						return fmt.Errorf("recording warm-up %s: %w", t.name, r.err)
					}
				}
			}
			var tick <-chan time.Time
			if paced {
				tk := time.NewTicker(2 * time.Millisecond)
				tick = tk.C
				defer tk.Stop() // one per pass, four in all
			}
			for range c.rounds {
				var rf, rw [3][]time.Duration
				for range per {
					for _, i := range rand.Perm(len(targets)) {
						if tick != nil {
							<-tick
						}
						r := do(ctx, targets[i], body, stream, "", false, false)
						if r.err == nil && r.status != http.StatusOK {
							r.err = fmt.Errorf("status %d", r.status)
						}
						if r.err != nil {
							return fmt.Errorf("recording %s: %w", targets[i].name, r.err)
						}
						rf[i] = append(rf[i], r.latency)
						rw[i] = append(rw[i], r.total)
					}
				}
				var pf, pw [3]time.Duration
				for i := range targets {
					slices.Sort(rf[i])
					slices.Sort(rw[i])
					pf[i], pw[i] = pct(rf[i], 0.5), pct(rw[i], 0.5)
					first.lat[i] = append(first.lat[i], rf[i]...)
					whole.lat[i] = append(whole.lat[i], rw[i]...)
				}
				first.rounds = append(first.rounds, pf)
				whole.rounds = append(whole.rounds, pw)
			}
			first.m = measures[boolInt(stream)]
			rows = append(rows, first)
			if stream {
				whole.m = measures[2]
				rows = append(rows, whole)
			}
			fmt.Fprintf(os.Stderr, "bench: recording on/off, %s, %s: %d requests per target\n",
				map[bool]string{true: "paced", false: "back to back"}[paced], first.m.name, len(first.lat[0]))
		}
	}

	fmt.Printf("### Recording on vs off\n\n")
	fmt.Printf("One Ferry process (a child of the bench program): *on* is Ferry's core as `ferry serve` runs it (usage meter, a record per request in its bbolt file, rollups, metrics); *off* and *off′* are the same proxy handler in the same process, with the same route, keys, bus and logger, without the meter and the recorder. ")
	fmt.Printf("One client in the bench process, %d-byte bodies, %d requests per target in %d rounds, targets in shuffled order; *paced*: a request every 2 ms; *back to back*: the next as soon as the last ended. ", c.bodyBytes, per*c.rounds, c.rounds)
	fmt.Printf("*on − off* and *off′ − off* are the differences of the per-round medians, lowest to highest over the rounds: off′ − off is the noise.\n\n")
	fmt.Println("| pacing | measure | on p50 / p99 | off p50 / p99 | off′ p50 / p99 | on − off, per round (µs) | off′ − off, per round (µs) |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		for i := range r.lat {
			slices.Sort(r.lat[i])
		}
		fmt.Printf("| %s | %s | %s / %s | %s / %s | %s / %s | %s | %s |\n",
			map[bool]string{true: "paced", false: "back to back"}[r.paced], r.m.name,
			msf(pct(r.lat[0], .5)), msf(pct(r.lat[0], .99)), msf(pct(r.lat[1], .5)), msf(pct(r.lat[1], .99)),
			msf(pct(r.lat[2], .5)), msf(pct(r.lat[2], .99)),
			diffRange(r.rounds, 0, 1), diffRange(r.rounds, 2, 1))
	}
	fmt.Println()
	return nil
}

// diffRange is "lo … hi" of the per-round differences a − b, in µs.
func diffRange(rounds [][3]time.Duration, a, b int) string {
	var d []int64
	for _, r := range rounds {
		d = append(d, (r[a] - r[b]).Microseconds())
	}
	return fmt.Sprintf("%+d … %+d", slices.Min(d), slices.Max(d))
}

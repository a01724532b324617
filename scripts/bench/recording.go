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
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/app"
)

// runFerryPair is the child of the recording phase: Ferry's core as
// `ferry serve` assembles it (recording on), and on two more listeners the
// same proxy handler with the same route, keys, bus, logger and guards
// (the same stages, sharing their state) but without the usage observer
// and recorder (recording off, twice, so that the
// difference between two identical targets shows the noise). It prints
// "pair ON OFF OFF2 TOKEN".
func runFerryPair(args []string) int {
	fs := flag.NewFlagSet("ferry-pair", flag.ContinueOnError)
	apiBase := fs.String("api-base", "", "upstream base URL")
	data := fs.String("data-dir", "", "data dir")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg := coreConfig(*apiBase, *data, false)
	base, err := url.Parse(*apiBase)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferry-pair: -api-base:", err)
		return 2
	}
	return serveCore("ferry-pair", cfg, func(ctx context.Context, srv *app.Server) (func(), error) {
		var served sync.WaitGroup
		wait := func() { served.Wait() }
		offURLs := make([]string, 2)
		for i := range offURLs {
			stages, key, keyPrep := srv.Pipeline()
			p, err := proxy.New(proxy.Options{APIBase: base, Routes: srv.Routes(), Keys: srv.Keys(), Bus: srv.Bus(), Logger: cfg.Logger,
				Stages: stages, Key: key, KeyPrep: keyPrep})
			if err != nil {
				return wait, err
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return wait, err
			}
			offURLs[i] = "http://" + ln.Addr().String()
			served.Go(func() {
				if err := p.Serve(ctx, ln); err != nil {
					fmt.Fprintln(os.Stderr, "ferry-pair: recording off:", err)
				}
			})
		}
		fmt.Println("pair", srv.BaseURL(), offURLs[0], offURLs[1], srv.Keys().LocalToken())
		return wait, nil
	})
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

	var rows []recordingRow
	per := max(1, c.recording/c.rounds)
	for _, paced := range []bool{true, false} {
		for _, stream := range []bool{false, true} {
			first, whole, err := recordingPass(ctx, targets, requestBody(c.bodyBytes, stream), stream, paced, c.rounds, per)
			if err != nil {
				return err
			}
			if stream {
				first.name, whole.name = "streaming, first token", "streaming, whole stream"
				rows = append(rows, first, whole)
			} else {
				first.name = "non-streaming"
				rows = append(rows, first)
			}
			fmt.Fprintf(os.Stderr, "bench: recording on/off, %s, %s: %d requests per target\n",
				map[bool]string{true: "paced", false: "back to back"}[paced], first.name, len(first.lat[0]))
		}
	}

	fmt.Printf("### Recording on vs off\n\n")
	fmt.Printf("One Ferry process (a child of the bench program): *on* is Ferry's core as `ferry serve` runs it (usage meter, a record per request in its bbolt file, rollups, metrics); *off* and *off′* are the same proxy handler in the same process, with the same route, keys, bus, logger and guards (the same stages, sharing their state), without the meter and the recorder. ")
	fmt.Printf("One client in the bench process, %d-byte bodies, %d requests per target in %d rounds, targets in shuffled order; *paced*: a request every 2 ms; *back to back*: the next as soon as the last ended. ", c.bodyBytes, per*c.rounds, c.rounds)
	fmt.Printf("*on − off* and *off′ − off* are the differences of the per-round medians, lowest to highest over the rounds: off′ − off is the noise.\n\n")
	fmt.Println("| pacing | measure | on p50 / p99 | off p50 / p99 | off′ p50 / p99 | on − off, per round (µs) | off′ − off, per round (µs) |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		for i := range r.lat {
			slices.Sort(r.lat[i])
		}
		fmt.Printf("| %s | %s | %s / %s | %s / %s | %s / %s | %s | %s |\n",
			map[bool]string{true: "paced", false: "back to back"}[r.paced], r.name,
			msf(pct(r.lat[0], .5)), msf(pct(r.lat[0], .99)), msf(pct(r.lat[1], .5)), msf(pct(r.lat[1], .99)),
			msf(pct(r.lat[2], .5)), msf(pct(r.lat[2], .99)),
			diffRange(r.rounds, 0, 1), diffRange(r.rounds, 2, 1))
	}
	fmt.Println()
	return nil
}

// recordingRow is one measure of one pacing: latencies per target (on, off,
// off′) and the median of each round per target.
type recordingRow struct {
	name   string
	paced  bool
	lat    [3][]time.Duration
	rounds [][3]time.Duration
}

// recordingPass sends rounds × per requests to each target in shuffled
// order and returns two rows: to the first token (the whole response when
// not streaming) and to the end of the body.
func recordingPass(ctx context.Context, targets []target, body []byte, stream, paced bool, rounds, per int) (first, whole recordingRow, err error) {
	first.paced, whole.paced = paced, paced
	for _, t := range targets {
		for range 20 { // warm the connection and the caches
			if r := do(ctx, t, body, stream, "", false, false); r.err != nil {
				return first, whole, fmt.Errorf("recording warm-up %s: %w", t.name, r.err)
			}
		}
	}
	var tick <-chan time.Time
	if paced {
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		tick = tk.C
	}
	for range rounds {
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
					return first, whole, fmt.Errorf("recording %s: %w", targets[i].name, r.err)
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
	return first, whole, nil
}

// diffRange is "lo … hi" of the per-round differences a − b, in µs.
func diffRange(rounds [][3]time.Duration, a, b int) string {
	var d []int64
	for _, r := range rounds {
		d = append(d, (r[a] - r[b]).Microseconds())
	}
	return fmt.Sprintf("%+d … %+d", slices.Min(d), slices.Max(d))
}

// Command roadbench measures Ferry on a bad road (issue 9) and prints the
// README's tables. In one run, on loopback:
//
//	client → Ferry's core (or a bare httputil.ReverseProxy)
//	       → toxiproxy (latency, resets) → microsocks or tinyproxy (-via) → the fake API (HTTPS, HTTP/2)
//
// Ferry's core is the request path `ferry serve` runs (proxy.New with the
// route Manager, its warm connections and probes, and the retry policy),
// assembled here in-process so that the benchmark can shorten the pool's
// idle timeout to stand for a long idle; metering and the history are left
// out (scripts/bench.sh measures those). The bare proxy gets the same route
// (http.Transport with Proxy socks5:// or http://toxiproxy, HTTP/2 attempted).
//
//	go run ./scripts/roadbench            # all phases, about 3 minutes
//	go run ./scripts/roadbench -h
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

type config struct {
	rtts       []time.Duration
	warmN      int
	idle       time.Duration
	concurrent int
	concRTT    time.Duration
	requests   int
	resetShare float64
	stallShare float64
	stallAfter time.Duration
	faultRTT   time.Duration
	faultConc  int
	via        string // microsocks or tinyproxy
	near       bool   // the proxy next to the client, the road beyond it
}

func main() {
	var c config
	rtts := flag.String("rtt", "0,50ms,150ms,300ms", "round trips to measure cold and warm time to first token at")
	flag.IntVar(&c.warmN, "warm", 7, "warm requests per RTT (the median is reported)")
	flag.DurationVar(&c.idle, "idle", 3*time.Second, "the pools' idle timeout, standing for Ferry's 90 s and a 10-minute idle; the idle wait is this plus 1 s")
	flag.IntVar(&c.concurrent, "concurrent", 16, "concurrent streams at -concurrent-rtt")
	flag.DurationVar(&c.concRTT, "concurrent-rtt", 150*time.Millisecond, "round trip of the concurrent streams phase")
	flag.IntVar(&c.requests, "requests", 1000, "requests in the faults phase")
	flag.Float64Var(&c.resetShare, "resets", 0.02, "share of new road connections reset (toxiproxy reset_peer) in the faults phase")
	flag.Float64Var(&c.stallShare, "stalls", 0.02, "share of streams stalled after their first byte for longer than the stall timeout (and as many for shorter)")
	flag.DurationVar(&c.stallAfter, "stall-timeout", 2*time.Second, "road.stream_idle_timeout in the faults phase")
	flag.DurationVar(&c.faultRTT, "faults-rtt", 50*time.Millisecond, "round trip in the faults phase")
	flag.IntVar(&c.faultConc, "faults-clients", 16, "concurrent clients in the faults phase")
	flag.BoolVar(&c.near, "near", false, "put the proxy next to the client and the latency beyond it (a user's own proxy on the laptop); default: the latency in front of the proxy")
	flag.StringVar(&c.via, "via", "microsocks", "the real proxy behind toxiproxy: microsocks (SOCKS5) or tinyproxy (HTTP CONNECT), Debian's")
	flag.Parse()
	for _, s := range strings.Split(*rtts, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, "roadbench: -rtt:", err)
			os.Exit(2)
		}
		c.rtts = append(c.rtts, d)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "roadbench:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	r, err := startRoad(c)
	if err != nil {
		return err
	}
	defer r.stop()
	path := "toxiproxy (latency, no jitter) → " + c.via
	if c.near {
		path = c.via + " → toxiproxy (latency, no jitter)"
	}
	fmt.Printf("Loopback, %d CPUs, load average at start %s. Road: client → proxy → %s → fake API (HTTPS, HTTP/2). Idle: pools' idle timeout %s, wait %s.\n\n",
		numCPU(), loadavg(), path, c.idle, c.idle+time.Second)

	fmt.Println("#### Time to first token, cold and warm (ms)")
	fmt.Println()
	fmt.Println("| RTT | Ferry: first after start | Ferry: after idle | Ferry: warm | bare: first after start | bare: after idle | bare: warm | Ferry cold − warm (RTTs) | bare cold − warm (RTTs) |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, rtt := range c.rtts {
		if err := r.toxi.SetRTT(rtt, 0); err != nil {
			return err
		}
		fs, err := coldWarm(r, c, true)
		if err != nil {
			return fmt.Errorf("Ferry at %s: %w", rtt, err)
		}
		bs, err := coldWarm(r, c, false)
		if err != nil {
			return fmt.Errorf("bare at %s: %w", rtt, err)
		}
		rtts := func(s [3]time.Duration) string {
			if rtt == 0 {
				return "—"
			}
			return fmt.Sprintf("%.1f", float64(max(s[0], s[1])-s[2])/float64(rtt))
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", ms(rtt), ms(fs[0]), ms(fs[1]), ms(fs[2]), ms(bs[0]), ms(bs[1]), ms(bs[2]), rtts(fs), rtts(bs))
	}
	fmt.Println()

	rtt := c.concRTT
	if err := r.toxi.SetRTT(rtt, 0); err != nil {
		return err
	}
	fmt.Printf("#### %d concurrent streams at %s RTT (ms)\n\n", c.concurrent, ms(rtt))
	fmt.Println("| proxy | single stream TTFT | concurrent TTFT median | max | max ÷ single |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, isFerry := range []bool{true, false} {
		single, med, worst, err := concurrent(r, c, isFerry)
		if err != nil {
			return err
		}
		name := "bare"
		if isFerry {
			name = "Ferry"
		}
		fmt.Printf("| %s | %s | %s | %s | %.2f |\n", name, ms(single), ms(med), ms(worst), float64(worst)/float64(single))
	}
	fmt.Println()
	return faults(r, c)
}

// coldWarm returns the TTFT of the first request after start, of one after
// an idle, and the median warm TTFT.
func coldWarm(r *road, c config, isFerry bool) ([3]time.Duration, error) {
	var out [3]time.Duration
	base, stop := "", func() {}
	if isFerry {
		f, err := startFerry(r, c, true, 0)
		if err != nil {
			return out, err
		}
		if !f.waitWarm() {
			f.stop()
			return out, errors.New("no warm connection after 5 s")
		}
		base, stop = f.url, f.stop
	} else {
		b, err := startBare(r, c)
		if err != nil {
			return out, err
		}
		base, stop = b.url, b.stop
	}
	defer stop()
	one := func() (time.Duration, error) {
		res := stream(base, testsupport.ScenarioStream)
		if res.err != nil || res.status != 200 || res.ttft == 0 {
			return 0, fmt.Errorf("status %d err %v", res.status, res.err)
		}
		return res.ttft, nil
	}
	var err error
	if out[0], err = one(); err != nil {
		return out, err
	}
	var warm []time.Duration
	for range c.warmN {
		d, err := one()
		if err != nil {
			return out, err
		}
		warm = append(warm, d)
	}
	out[2] = median(warm)
	time.Sleep(c.idle + time.Second)
	out[1], err = one()
	return out, err
}

func concurrent(r *road, c config, isFerry bool) (single, med, worst time.Duration, err error) {
	base, stop := "", func() {}
	if isFerry {
		f, err := startFerry(r, c, true, 0)
		if err != nil {
			return 0, 0, 0, err
		}
		f.waitWarm()
		base, stop = f.url, f.stop
	} else {
		b, err := startBare(r, c)
		if err != nil {
			return 0, 0, 0, err
		}
		base, stop = b.url, b.stop
	}
	defer stop()
	var singles []time.Duration
	for range c.warmN {
		res := stream(base, testsupport.ScenarioStream)
		if res.err != nil || res.status != 200 {
			return 0, 0, 0, fmt.Errorf("single: %d %v", res.status, res.err)
		}
		singles = append(singles, res.ttft)
	}
	single = median(singles)
	ttfts := make([]time.Duration, c.concurrent)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range c.concurrent {
		wg.Go(func() {
			res := stream(base, testsupport.ScenarioStream)
			if res.err != nil || res.status != 200 {
				failed.Add(1)
			}
			ttfts[i] = res.ttft
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return 0, 0, 0, fmt.Errorf("%d concurrent streams failed", failed.Load())
	}
	return single, median(ttfts), slices.Max(ttfts), nil
}

// faults sends c.requests streams through Ferry at c.faultRTT, each on a
// new road connection (as on a road whose tunnels die), with c.resetShare
// of new connections reset, c.stallShare of streams stalled past the stall
// timeout after their first byte and as many stalled for half of it.
func faults(r *road, c config) error {
	if err := r.toxi.SetRTT(c.faultRTT, 0); err != nil {
		return err
	}
	if err := r.toxi.Add("resets", "reset_peer", "upstream", c.resetShare, map[string]any{"timeout": 0}); err != nil {
		return err
	}
	defer r.toxi.Remove("resets")
	f, err := startFerry(r, c, false, c.stallAfter)
	if err != nil {
		return err
	}
	defer f.stop()
	ups, err := f.m.Candidates(route.Request{})
	if err != nil {
		return err
	}
	// Every request on a new road connection: resets of new connections
	// then reach as many requests as they can.
	ups[0].Transport.DisableKeepAlives = true
	type job struct{ scenario, kind string }
	jobs := make(chan job)
	type outcome struct {
		job
		res result
	}
	outs := make(chan outcome, c.requests)
	var wg sync.WaitGroup
	for range c.faultConc {
		wg.Go(func() {
			for j := range jobs {
				outs <- outcome{j, stream(f.url, j.scenario)}
			}
		})
	}
	long := c.stallAfter + 3*time.Second
	short := c.stallAfter / 2
	rng := rand.New(rand.NewPCG(9, 9))
	start := time.Now()
	for range c.requests {
		x := rng.Float64()
		switch {
		case x < c.stallShare:
			jobs <- job{"long_gap;gap=" + long.String(), "stalled"}
		case x < 2*c.stallShare:
			jobs <- job{"long_gap;gap=" + short.String(), "short"}
		default:
			jobs <- job{testsupport.ScenarioStream, "plain"}
		}
	}
	close(jobs)
	wg.Wait()
	close(outs)
	elapsed := time.Since(start)
	var before, stalled, stalledOK, stalledLate, shortN, shortCut, plain, plainBroken, unparsed int
	var worstEnd time.Duration
	for o := range outs {
		res := o.res
		if res.err != nil && len(res.frames) == 0 || res.status != 200 {
			before++
			continue
		}
		if !res.parses() {
			unparsed++
		}
		switch o.kind {
		case "stalled":
			stalled++
			if res.errType == "timeout_error" && !res.complete {
				end := endGap(res)
				worstEnd = max(worstEnd, end)
				if end <= c.stallAfter+time.Second {
					stalledOK++
				} else {
					stalledLate++
				}
			}
		case "short":
			shortN++
			if !res.complete || res.errType != "" {
				shortCut++
			}
		default:
			plain++
			if !res.complete || res.errType != "" {
				plainBroken++
			}
		}
	}
	fmt.Printf("#### Faults: %d streams, %d clients, %s RTT, a new road connection each, %.0f %% of new connections reset, %.0f %% stalled after the first byte for %s (road.stream_idle_timeout %s), %.0f %% for %s\n\n",
		c.requests, c.faultConc, ms(c.faultRTT), c.resetShare*100, c.stallShare*100, long, c.stallAfter, c.stallShare*100, short)
	fmt.Println("| measure | value |")
	fmt.Println("|---|---:|")
	fmt.Printf("| client-visible errors before the first byte | %d |\n", before)
	fmt.Printf("| resets that hit a request, each retried by Ferry | %d |\n", f.retries.Load())
	fmt.Printf("| other streams completed whole | %d of %d |\n", plain-plainBroken, plain)
	fmt.Printf("| stalled streams ended by Ferry within the stall timeout + 1 s, with a timeout_error | %d of %d (worst %s ms after the last byte) |\n", stalledOK, stalled, ms(worstEnd))
	fmt.Printf("| stalled streams ended late | %d |\n", stalledLate)
	fmt.Printf("| streams with a shorter gap cut | %d of %d |\n", shortCut, shortN)
	fmt.Printf("| streams with a frame an SDK cannot parse | %d |\n", unparsed)
	fmt.Printf("| wall time | %.1f s |\n", elapsed.Seconds())
	fmt.Println()
	return nil
}

// endGap is the silence before the repair: from the frame before the error
// frame to the error frame.
func endGap(r result) time.Duration {
	for i, f := range r.frames {
		if f.event == "error" && i > 0 {
			// Skip the repair's own frames (content_block_stop) before it.
			j := i - 1
			for j > 0 && r.frames[j].at.Sub(f.at).Abs() < time.Millisecond {
				j--
			}
			return f.at.Sub(r.frames[j].at)
		}
	}
	return 0
}

func numCPU() int {
	b, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(bytes.TrimSpace(b)))[:3], " ")
}

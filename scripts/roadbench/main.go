// Command roadbench measures Ferry on a bad road (issue 9) and prints the
// README's tables. In one run, on loopback:
//
//	client → Ferry's core (or a bare httputil.ReverseProxy)
//	       → toxiproxy (latency, resets) → microsocks → the fake API (HTTPS, HTTP/2)
//
// Ferry's core is the request path `ferry serve` runs (proxy.New with the
// route Manager, its warm connections and probes, and the retry policy),
// assembled here in-process so that the benchmark can shorten the pool's
// idle timeout to stand for a long idle; metering and the history are left
// out (scripts/bench.sh measures those). The bare proxy gets the same route
// (http.Transport with Proxy socks5://toxiproxy, HTTP/2 attempted).
//
//	go run ./scripts/roadbench            # all phases, about 3 minutes
//	go run ./scripts/roadbench -h
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/retry"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

type config struct {
	rtts       []time.Duration
	warmN      int
	idle       time.Duration
	concurrent int
	requests   int
	resetShare float64
	stallShare float64
	stallAfter time.Duration
	faultRTT   time.Duration
	faultConc  int
	microsocks string
}

func main() {
	var c config
	rtts := flag.String("rtt", "0,50ms,150ms,300ms", "round trips to measure cold and warm time to first token at")
	flag.IntVar(&c.warmN, "warm", 7, "warm requests per RTT (the median is reported)")
	flag.DurationVar(&c.idle, "idle", 3*time.Second, "the pools' idle timeout, standing for Ferry's 90 s and a 10-minute idle; the idle wait is this plus 1 s")
	flag.IntVar(&c.concurrent, "concurrent", 16, "concurrent streams at 150 ms")
	flag.IntVar(&c.requests, "requests", 1000, "requests in the faults phase")
	flag.Float64Var(&c.resetShare, "resets", 0.02, "share of new road connections reset (toxiproxy reset_peer) in the faults phase")
	flag.Float64Var(&c.stallShare, "stalls", 0.02, "share of streams stalled after their first byte for longer than the stall timeout (and as many for shorter)")
	flag.DurationVar(&c.stallAfter, "stall-timeout", 2*time.Second, "road.stream_idle_timeout in the faults phase")
	flag.DurationVar(&c.faultRTT, "faults-rtt", 50*time.Millisecond, "round trip in the faults phase")
	flag.IntVar(&c.faultConc, "faults-clients", 16, "concurrent clients in the faults phase")
	flag.StringVar(&c.microsocks, "microsocks", "microsocks", "microsocks binary (Debian package microsocks)")
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

// road is the fake API behind microsocks behind toxiproxy.
type road struct {
	fake  *testsupport.FakeAPI
	toxi  *testsupport.Toxiproxy
	socks *exec.Cmd
	base  *url.URL
	roots *x509.CertPool
}

func startRoad(c config) (*road, error) {
	certs, err := os.MkdirTemp("", "roadbench-certs")
	if err != nil {
		return nil, err
	}
	fake, err := testsupport.StartFakeAPI("127.0.0.1:0", certs, testsupport.WithRecordLimit(16))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	socks := exec.Command(c.microsocks, "-i", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := socks.Start(); err != nil {
		return nil, fmt.Errorf("microsocks: %w (apt-get install microsocks)", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; ; i++ {
		cn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			cn.Close()
			break
		}
		if i > 100 {
			return nil, fmt.Errorf("microsocks did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	toxi, err := testsupport.NewToxiproxy(addr)
	if err != nil {
		return nil, err
	}
	base, _ := url.Parse(fake.URL)
	return &road{fake: fake, toxi: toxi, socks: socks, base: base, roots: fake.CertPool}, nil
}

func (r *road) stop() {
	r.toxi.Stop()
	r.socks.Process.Kill()
	r.socks.Wait()
	r.fake.Close()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ferry is Ferry's core on a loopback listener.
type ferry struct {
	retries *atomic.Int64 // the retry policy's "again" decisions
	url     string
	m       *route.Manager
	srv     *http.Server
	cancel  context.CancelFunc
	done    chan struct{}
}

func startFerry(r *road, c config, warm bool, streamIdle time.Duration) (*ferry, error) {
	st := &memSettings{routes: []route.Route{{Name: "Abroad", URL: "socks5://" + r.toxi.Addr}}}
	m, err := route.NewManager(route.ManagerOptions{
		Settings: st, Target: r.base, Interval: time.Hour,
		Dial: route.DialOptions{RootCAs: r.roots, ConnectTimeout: 10 * time.Second, IdleConnTimeout: c.idle},
	})
	if err != nil {
		return nil, err
	}
	m.SetKeepWarm(warm)
	retries := &atomic.Int64{}
	p, err := proxy.New(proxy.Options{
		APIBase: r.base, Routes: m, Retry: counting{&retry.Policy{}, retries},
		StreamIdleTimeout: streamIdle, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &ferry{retries: retries, url: "http://" + ln.Addr().String(), m: m, srv: &http.Server{Handler: p}, cancel: cancel, done: make(chan struct{})}
	go f.srv.Serve(ln)
	go func() { defer close(f.done); m.Run(ctx) }()
	return f, nil
}

func (f *ferry) stop() {
	f.cancel()
	<-f.done
	f.srv.Close()
	f.m.CloseIdleConnections()
}

// waitWarm waits for the serving route's warm connection, as a user's
// first request comes seconds after Ferry started at login.
func (f *ferry) waitWarm() bool {
	for range 200 {
		for _, s := range f.m.Routes() {
			if s.Warm {
				return true
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return false
}

// counting counts the policy's decisions to try again.
type counting struct {
	p *retry.Policy
	n *atomic.Int64
}

func (c counting) Decide(out *proxy.Outgoing, n int, last proxy.AttemptResult, since time.Duration) proxy.RetryDecision {
	d := c.p.Decide(out, n, last, since)
	if d.Again {
		c.n.Add(1)
	}
	return d
}

type memSettings struct{ routes []route.Route }

func (s *memSettings) GetSetting(key string, into any) (bool, error) {
	if dst, ok := into.(*[]route.Route); ok && key == route.SettingRoutes {
		*dst = slices.Clone(s.routes)
		return true, nil
	}
	return false, nil
}

func (s *memSettings) PutSetting(string, any) error { return nil }

// bare is httputil.ReverseProxy with the same route.
type bare struct {
	url string
	t   *http.Transport
	srv *http.Server
}

func startBare(r *road, c config) (*bare, error) {
	t := &http.Transport{
		Proxy:               http.ProxyURL(&url.URL{Scheme: "socks5", Host: r.toxi.Addr}),
		TLSClientConfig:     &tls.Config{RootCAs: r.roots},
		ForceAttemptHTTP2:   true,
		IdleConnTimeout:     c.idle,
		MaxIdleConnsPerHost: 64,
		DisableCompression:  true,
	}
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(r.base) },
		Transport:     t,
		FlushInterval: -1,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bare{url: "http://" + ln.Addr().String(), t: t, srv: &http.Server{Handler: rp}}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bare) stop() { b.srv.Close(); b.t.CloseIdleConnections() }

var client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, DisableCompression: true}}

const streamBody = `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`

// result is one streamed request as the client saw it.
type result struct {
	status   int
	err      error
	ttft     time.Duration // to the first content_block_delta
	frames   []frame
	gapEnd   time.Duration // the longest silence between two reads
	complete bool          // message_stop seen
	errType  string        // the error frame's type, "" if none
}

type frame struct {
	event string
	data  string
	at    time.Time
}

// stream sends one streaming request to base with scenario and reads it
// whole, frame by frame.
func stream(base, scenario string) result {
	req, _ := http.NewRequest("POST", base+"/v1/messages", strings.NewReader(streamBody))
	req.Header.Set("X-Api-Key", "sk-ant-api03-roadbench")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer res.Body.Close()
	out := result{status: res.StatusCode}
	if res.StatusCode != 200 {
		io.Copy(io.Discard, res.Body)
		return out
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur frame
	last := time.Now()
	for sc.Scan() {
		now := time.Now()
		out.gapEnd = max(out.gapEnd, now.Sub(last))
		last = now
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[len("data: "):]
		case line == "":
			if cur.event != "" || cur.data != "" {
				cur.at = now
				out.frames = append(out.frames, cur)
				switch cur.event {
				case "content_block_delta":
					if out.ttft == 0 {
						out.ttft = now.Sub(start)
					}
				case "message_stop":
					out.complete = true
				case "error":
					var e struct {
						Error struct{ Type string } `json:"error"`
					}
					json.Unmarshal([]byte(cur.data), &e)
					out.errType = e.Error.Type
				}
			}
			cur = frame{}
		}
	}
	out.err = sc.Err()
	return out
}

// parses reports whether every frame an SDK parses (all but ping) has
// valid JSON data: the repair never leaves half a frame to parse.
func (r result) parses() bool {
	for _, f := range r.frames {
		if f.event != "ping" && !json.Valid([]byte(f.data)) {
			return false
		}
	}
	return true
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)) }

func run(c config) error {
	r, err := startRoad(c)
	if err != nil {
		return err
	}
	defer r.stop()
	fmt.Printf("Loopback, %d CPUs, load average at start %s. Road: client → proxy → toxiproxy (latency, no jitter) → microsocks → fake API (HTTPS, HTTP/2). Idle: pools' idle timeout %s, wait %s.\n\n",
		numCPU(), loadavg(), c.idle, c.idle+time.Second)

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

	rtt := 150 * time.Millisecond
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

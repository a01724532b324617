package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/limit"
)

// The dedup cache's benchmarks (issue 10, "Speed and bounds"): each runs
// real Ferry cores (cache on; cache off as the baseline) in front of an
// upstream that answers at once, and sends the same requests straight to
// that upstream in the same rounds, targets in random order per round, so
// the machine's noise falls on all alike. Latencies are the client's:
// request sent → whole answer read, or → first content_block_delta for a
// stream. Nothing here asserts a time.
//
//	CGO_ENABLED=0 go test ./proxy/app -run '^$' -bench 'Cache' -benchtime 20x
//
// Client, cores and upstream share one process and the machine's cores:
// figures include the client's own work, and a core's goroutines compete
// with the client's.

// cacheUpstream answers /v1/messages with a 50 KB message or a stream of
// 100 frames (a gap between frames when the request says x-bench-gap),
// and counts its calls.
type cacheUpstream struct {
	calls   atomic.Int64
	message []byte
	frames  [][]byte
}

func newCacheUpstream(b *testing.B) (*cacheUpstream, string) {
	u := &cacheUpstream{}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 50_000/45)
	u.message = fmt.Appendf(nil, `{"id":"msg_bench","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":%q}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1200,"output_tokens":11000}}`, text)
	u.frames = append(u.frames,
		[]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":1200,\"output_tokens\":1}}}\n\n"),
		[]byte("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"))
	for i := range 95 {
		u.frames = append(u.frames, fmt.Appendf(nil, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word %d of the answer \"}}\n\n", i))
	}
	u.frames = append(u.frames,
		[]byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"),
		[]byte("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":300}}\n\n"),
		[]byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: u}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return u, "http://" + ln.Addr().String()
}

func (u *cacheUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n := u.calls.Add(1)
	w.Header().Set("Request-Id", "req_bench_"+strconv.FormatInt(n, 10))
	if !bytes.Contains(body, []byte(`"stream":true`)) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(u.message)))
		w.Write(u.message)
		return
	}
	gap, _ := time.ParseDuration(r.Header.Get("X-Bench-Gap"))
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	fl := w.(http.Flusher)
	for _, f := range u.frames {
		if gap > 0 {
			time.Sleep(gap)
		}
		w.Write(f)
		fl.Flush()
	}
}

// cacheCores are two cores in front of the same upstream: the cache on
// and off; the brake and the local rate limit are off in both (thousands
// of identical requests a minute are the point here).
func cacheCores(b *testing.B, upstream string) (on, off string) {
	common := map[string]string{limit.KeyRPM: "0", brake.KeyEnabled: "off"}
	withCache := func(v string) map[string]string {
		m := map[string]string{cache.KeyEnabled: v}
		for k, x := range common {
			m[k] = x
		}
		return m
	}
	return benchCoreAt(b, upstream, withCache("on")).BaseURL(), benchCoreAt(b, upstream, withCache("off")).BaseURL()
}

// sized is a Claude Code-shaped agent request of at least n bytes.
func sized(n int) string {
	turns := 1
	for len(agentBody(turns)) < n {
		turns++
	}
	return agentBody(turns)
}

// unique makes body a new request: one more turn numbered seq.
func unique(body string, seq int64) string {
	return body[:len(body)-2] + fmt.Sprintf(`,{"role":"assistant","content":"Done."},{"role":"user","content":"next %d"}]}`, seq)
}

// streamed makes body a streaming request.
func streamed(body string) string {
	return strings.Replace(body, `{"model":`, `{"stream":true,"model":`, 1)
}

type cacheTarget struct {
	name, url string
	hc        *http.Client
	// body gives the request body of the i-th request of a round.
	body func() string
	tag  string // the x-ferry-cache value every answer must carry ("" for none)
	hdr  map[string]string
}

// cacheSend sends one request and returns its latency: to the whole
// answer, or for a stream to its first content_block_delta.
func cacheSend(hc *http.Client, url, body string, hdr map[string]string, tag string) (time.Duration, []byte, error) {
	req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(body))
	req.Header.Set("x-api-key", "sk-ant-api03-bench")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("content-type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return 0, nil, fmt.Errorf("%s: status %d", url, res.StatusCode)
	}
	if got := res.Header.Get(cache.HeaderCache); tag != "" && got != tag {
		return 0, nil, fmt.Errorf("%s: x-ferry-cache %q, want %q", url, got, tag)
	}
	var d time.Duration
	var all []byte
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		br := bufio.NewReader(res.Body)
		for {
			line, err := br.ReadBytes('\n')
			all = append(all, line...)
			if err != nil {
				return 0, nil, fmt.Errorf("%s: stream ended before a delta: %v", url, err)
			}
			if bytes.HasPrefix(line, []byte("event: content_block_delta")) {
				d = time.Since(start)
				break
			}
		}
		rest, err := io.ReadAll(br)
		if err != nil {
			return 0, nil, err
		}
		all = append(all, rest...)
	} else {
		if all, err = io.ReadAll(res.Body); err != nil {
			return 0, nil, err
		}
		d = time.Since(start)
	}
	return d, all, nil
}

// cacheRounds runs one round per b.Loop iteration: each target in random
// order, clients goroutines sending perClient requests each. It returns
// the latencies by target.
func cacheRounds(b *testing.B, targets []cacheTarget, clients, perClient int) map[string][]time.Duration {
	lat := map[string][]time.Duration{}
	for b.Loop() {
		order := slices.Clone(targets)
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, tg := range order {
			var mu sync.Mutex
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for range clients {
				wg.Go(func() {
					for range perClient {
						d, _, err := cacheSend(tg.hc, tg.url, tg.body(), tg.hdr, tg.tag)
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						lat[tg.name] = append(lat[tg.name], d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, tg := range targets {
		tg.hc.CloseIdleConnections()
	}
	return lat
}

func pct(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func client(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: conns}}
}

// BenchmarkCacheHit: a hit on a 50 KB answer and a replayed 100-frame
// stream, against the same request sent to the upstream directly and
// through Ferry with the cache off (a miss's path without the cache).
// Goals: a hit's p50 under 1 ms at 1 client; at 16 clients its p99 no
// higher than the upstream's own; a stream's first byte under 1 ms p50.
func BenchmarkCacheHit(b *testing.B) {
	up, upURL := newCacheUpstream(b)
	on, off := cacheCores(b, upURL)
	for _, kind := range []string{"message-50KB", "stream-100-frames"} {
		body := sized(4000)
		if kind == "stream-100-frames" {
			body = streamed(body)
		}
		// The answer the hits replay.
		if _, _, err := cacheSend(client(1), on, body, nil, "miss"); err != nil {
			b.Fatal(err)
		}
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/clients=%d", kind, clients), func(b *testing.B) {
				same := func() string { return body }
				targets := []cacheTarget{
					{name: "direct", url: upURL, hc: client(clients), body: same},
					{name: "hit", url: on, hc: client(clients), body: same, tag: "hit"},
					{name: "off", url: off, hc: client(clients), body: same, tag: "off"},
				}
				calls := up.calls.Load()
				lat := cacheRounds(b, targets, clients, 200/clients+4)
				for _, tg := range targets {
					b.ReportMetric(ms(pct(lat[tg.name], 0.5)), "p50-ms-"+tg.name)
					b.ReportMetric(ms(pct(lat[tg.name], 0.99)), "p99-ms-"+tg.name)
				}
				if hits := int64(len(lat["hit"])); up.calls.Load()-calls != int64(len(lat["direct"])+len(lat["off"])) {
					b.Fatalf("%d upstream calls for %d direct and %d off requests (%d hits)", up.calls.Load()-calls, len(lat["direct"]), len(lat["off"]), hits)
				}
			})
		}
	}
}

// BenchmarkCacheMiss: with the cache on and every request new (a miss:
// the lookup, the flight, the check and store of the answer), against
// the cache off, for 4 KB and Claude Code's 85 KB bodies, and with the
// cache on and Cache-Control: no-store (no lookup, no flight, nothing
// stored). Goal: Ferry's added p50 within 10 % of cache off for 4 KB; at
// most +0.15 ms for 85 KB.
func BenchmarkCacheMiss(b *testing.B) {
	_, upURL := newCacheUpstream(b)
	on, off := cacheCores(b, upURL)
	var seq atomic.Int64
	for _, size := range []int{4_000, 85_000} {
		base := sized(size)
		b.Run(fmt.Sprintf("body=%dKB", size/1000), func(b *testing.B) {
			next := func() string { return unique(base, seq.Add(1)) }
			targets := []cacheTarget{
				{name: "direct", url: upURL, hc: client(1), body: next},
				{name: "on", url: on, hc: client(1), body: next, tag: "miss"},
				{name: "off", url: off, hc: client(1), body: next, tag: "off"},
				// The cache on, the answer not stored: what storing costs.
				{name: "nostore", url: on, hc: client(1), body: next, tag: "bypass", hdr: map[string]string{"Cache-Control": "no-store"}},
			}
			lat := cacheRounds(b, targets, 1, 100)
			p50 := map[string]time.Duration{}
			for _, tg := range targets {
				p50[tg.name] = pct(lat[tg.name], 0.5)
				b.ReportMetric(ms(p50[tg.name]), "p50-ms-"+tg.name)
			}
			addedOn, addedOff := p50["on"]-p50["direct"], p50["off"]-p50["direct"]
			b.ReportMetric(ms(addedOn-addedOff), "on-off-added-p50-ms")
			if addedOff > 0 {
				b.ReportMetric(float64(addedOn)/float64(addedOff), "added-p50-on/off")
			}
		})
	}
}

// BenchmarkCacheCoalesce: 64 identical streaming requests at once (a
// stream of about 100 ms, so all arrive while it is in flight) make one
// upstream call, and the 64 streams are byte-identical (checked: the
// benchmark fails otherwise). Reports upstream calls per 64 requests and
// the time for all 64 to end.
func BenchmarkCacheCoalesce(b *testing.B) {
	up, upURL := newCacheUpstream(b)
	on, _ := cacheCores(b, upURL)
	base := streamed(sized(4000))
	hc := client(64)
	var seq int64
	var calls int64
	var took time.Duration
	for b.Loop() {
		seq++
		body := unique(base, seq)
		before := up.calls.Load()
		streams := make([][]byte, 64)
		errs := make(chan error, 64)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				_, all, err := cacheSend(hc, on, body, map[string]string{"X-Bench-Gap": "1ms"}, "")
				if err != nil {
					errs <- err
				}
				streams[i] = all
			})
		}
		wg.Wait()
		took += time.Since(start)
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		for i, s := range streams {
			if !bytes.Equal(s, streams[0]) || !bytes.HasSuffix(s, []byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")) {
				b.Fatalf("stream %d differs or is incomplete (%d bytes)", i, len(s))
			}
		}
		calls += up.calls.Load() - before
	}
	b.ReportMetric(float64(calls)/float64(b.N), "upstream-calls/64-requests")
	b.ReportMetric(ms(took/time.Duration(b.N)), "ms/64-streams")
	hc.CloseIdleConnections()
}

package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// benchTarget is one way to reach the fake: directly, through a bare
// ReverseProxy (full duplex on: the best a Go proxy does), or through Ferry
// with everything on (guards, key swap, sniffing, timeouts, stream scanner,
// records, events, a log line per request).
type benchTarget struct {
	name string
	url  string
}

func benchTargets(b *testing.B) ([]benchTarget, *testsupport.FakeAPI) {
	b.Helper()
	fake := testsupport.NewFakeAPI(b)
	u, _ := url.Parse(fake.URL)

	bare := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: &http.Transport{
			DisableCompression: true, MaxIdleConnsPerHost: 128, ForceAttemptHTTP2: true,
		},
		FlushInterval: -1,
	}
	bareSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		bare.ServeHTTP(w, r)
	}))
	b.Cleanup(bareSrv.Close)

	h := newHarness(b, fake.URL, func(o *Options) {
		o.Observe = nil
		o.Recorder = discardRecorder{}
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
	return []benchTarget{{"direct", fake.URL}, {"bare", bareSrv.URL}, {"ferry", h.url}}, fake
}

type discardRecorder struct{}

func (discardRecorder) Record(storage.Record) {}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 128}}
}

// roundTrip sends one request and returns the time to the first body byte.
func roundTrip(b *testing.B, c *http.Client, target, scenario, body string) time.Duration {
	start := time.Now()
	req, _ := http.NewRequest("POST", target+"/v1/messages?beta=true", strings.NewReader(body))
	req.Header.Set("X-Api-Key", clientKey)
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b.Fatalf("%s: status %d", target, res.StatusCode)
	}
	var one [1]byte
	if _, err := io.ReadFull(res.Body, one[:]); err != nil {
		b.Fatal(err)
	}
	ttfb := time.Since(start)
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	return ttfb
}

func benchScenario(b *testing.B, scenario, body string, parallel bool) {
	targets, _ := benchTargets(b)
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			c := benchClient()
			defer c.CloseIdleConnections()
			roundTrip(b, c, tg.url, scenario, body) // warm the pools
			b.ResetTimer()
			cpu0 := cpuTime()
			defer func() {
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
			}()
			if !parallel {
				var ttfb time.Duration
				for b.Loop() {
					ttfb += roundTrip(b, c, tg.url, scenario, body)
				}
				b.ReportMetric(float64(ttfb.Nanoseconds())/float64(b.N), "ttfb-ns/op")
				return
			}
			b.SetParallelism(8) // 16 clients on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					roundTrip(b, c, tg.url, scenario, body)
				}
			})
		})
	}
}

var benchBody = `{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"` + strings.Repeat("hello ", 200) + `"}]}`

var benchStreamBody = `{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("hello ", 200) + `"}]}`

// BenchmarkNonStreaming: one client, a non-streaming message.
func BenchmarkNonStreaming(b *testing.B) {
	benchScenario(b, testsupport.ScenarioMessage, benchBody, false)
}

// BenchmarkStreaming: one client, a streamed message (ttfb-ns/op is the
// time to the first SSE byte).
func BenchmarkStreaming(b *testing.B) {
	benchScenario(b, testsupport.ScenarioStream, benchStreamBody, false)
}

// BenchmarkStreamingParallel: 16 clients at once.
func BenchmarkStreamingParallel(b *testing.B) {
	benchScenario(b, testsupport.ScenarioStream, benchStreamBody, true)
}

// BenchmarkSniffRequest: finding model and stream in an 85 KB body, the
// size Claude Code sends.
func BenchmarkSniffRequest(b *testing.B) {
	body := []byte(`{"model":"claude-sonnet-4-5","max_tokens":32000,"messages":[` +
		strings.Repeat(`{"role":"user","content":[{"type":"text","text":"some \"quoted\" text and code { } [ ] here"}]},`, 1000) +
		`{"role":"user","content":"go"}],"tools":[],"stream":true}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		f := sniffRequest(body, true)
		if !f.stream || f.model == "" {
			b.Fatal("not found")
		}
	}
}

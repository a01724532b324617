package app_test

import (
	"context"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// BenchmarkRecording compares a request through Ferry with usage recording
// on (the whole server: meter on the response, a record per request into a
// real bbolt file, rollups, metrics) and off (the same proxy handler, route,
// keys and HTTP server settings, without observer or recorder). The issue
// asks that the two be within noise.
//
//	CGO_ENABLED=0 go test ./proxy/app -run '^$' -bench Recording -count 6 | benchstat -
//
// Client, proxy and fake share one Go runtime here, where a goroutine made
// runnable by Ferry runs before the client notices its socket became
// readable: this benchmark sees CPU that a client in its own process does
// not wait for. scripts/bench.sh measures the same comparison with the
// client in its own process (scripts/bench/recording.go), as users run it.
func BenchmarkRecording(b *testing.B) {
	fake := testsupport.NewFakeAPI(b, testsupport.WithRecordLimit(16))
	quiet := slog.New(slog.DiscardHandler)

	srv, err := app.Open(app.Config{
		Listen: "127.0.0.1:0", APIBase: fake.URL, DataDir: b.TempDir(), Via: "direct", Logger: quiet,
		// Thousands of requests a minute on one key: the default local
		// rate limit (100 a minute) would answer most of them.
		Overrides: []app.Override{{Key: limit.KeyRPM, Text: "0", From: "benchmark"}},
		Getenv: func(k string) string {
			if k == "FERRY_KEYRING" {
				return "off"
			}
			return ""
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Stop(context.Background()) })

	// The same handler, route, keys and HTTP server settings, without
	// observer or recorder.
	base, _ := url.Parse(fake.URL)
	bare, err := proxy.New(proxy.Options{APIBase: base, Routes: srv.Routes(), Keys: srv.Keys(), Bus: srv.Bus(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = bare.Serve(serveCtx, ln)
	}()
	b.Cleanup(func() { stopServing(); <-served })
	off := struct{ URL string }{"http://" + ln.Addr().String()}

	for _, sc := range []struct{ name, scenario, body string }{
		{"message", testsupport.ScenarioMessage, `{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`},
		{"stream", testsupport.ScenarioStream, `{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}`},
	} {
		c := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}}
		do := func(b *testing.B, url string) time.Duration {
			start := time.Now()
			req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(sc.body))
			req.Header.Set("x-api-key", "sk-ant-bench")
			req.Header.Set(testsupport.ScenarioHeader, sc.scenario)
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, res.Body); err != nil {
				b.Fatal(err)
			}
			res.Body.Close()
			return time.Since(start)
		}
		// Back to back: the machine saturated, so every CPU µs shows.
		for _, tg := range []struct{ name, url string }{{"off", off.URL}, {"on", srv.BaseURL()}} {
			b.Run(sc.name+"/recording="+tg.name, func(b *testing.B) {
				for b.Loop() {
					do(b, tg.url)
				}
			})
		}
		// Paced, one request every 2 ms, as a client that reads and thinks,
		// off and on in turn so that both meet the same machine: the
		// latency a user sees, p50 and p99 of each.
		b.Run(sc.name+"/paced", func(b *testing.B) {
			var offLat, onLat []time.Duration
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for b.Loop() {
				// In random order: a fixed one would keep step with
				// anything periodic in the process (the bookkeeping's
				// batches, the recorder's flushes).
				offFirst := rand.IntN(2) == 0
				for _, isOff := range []bool{offFirst, !offFirst} {
					<-tick.C
					if isOff {
						offLat = append(offLat, do(b, off.URL))
					} else {
						onLat = append(onLat, do(b, srv.BaseURL()))
					}
				}
			}
			for _, l := range []struct {
				name string
				d    []time.Duration
			}{{"off", offLat}, {"on", onLat}} {
				slices.Sort(l.d)
				b.ReportMetric(float64(l.d[len(l.d)/2].Microseconds()), "p50-µs-"+l.name)
				b.ReportMetric(float64(l.d[len(l.d)*99/100].Microseconds()), "p99-µs-"+l.name)
			}
		})
		c.CloseIdleConnections()
	}
}

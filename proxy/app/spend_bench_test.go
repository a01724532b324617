package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// benchCore starts a Ferry core in front of fake with knob overrides.
func benchCore(b *testing.B, fake *testsupport.FakeAPI, overrides map[string]string) *app.Server {
	b.Helper()
	return benchCoreAt(b, fake.URL, overrides)
}

// benchCoreAt starts a Ferry core in front of the API at apiBase.
func benchCoreAt(b *testing.B, apiBase string, overrides map[string]string) *app.Server {
	b.Helper()
	var ov []app.Override
	for k, v := range overrides {
		ov = append(ov, app.Override{Key: k, Text: v, From: "benchmark"})
	}
	srv, err := app.Open(app.Config{
		Listen: "127.0.0.1:0", APIBase: apiBase, DataDir: b.TempDir(), Via: "direct",
		Logger: slog.New(slog.DiscardHandler), Overrides: ov,
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
	return srv
}

// agentBody is a Claude Code-shaped request: a conversation of tool calls
// that moves on (so the brake reads its tail and finds no loop).
func agentBody(turns int) string {
	var sb strings.Builder
	sb.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":1024,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1; cch=1;"},{"type":"text","text":"You are Claude Code."}],"messages":[{"role":"user","content":"fix the failing test"}`)
	for i := range turns {
		fmt.Fprintf(&sb, `,{"role":"assistant","content":[{"type":"text","text":"Reading file %d."},{"type":"tool_use","id":"toolu_%03d","name":"Read","input":{"file_path":"/src/pkg/file%d.go"}}]}`, i, i, i)
		fmt.Fprintf(&sb, `,{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_%03d","content":%q}]}`, i, strings.Repeat(fmt.Sprintf("line %d of file %d\n", i, i), 20))
	}
	sb.WriteString(`]}`)
	return sb.String()
}

// BenchmarkSpendGuard measures what the spend guard adds to a request:
// Ferry with every guard of issue 12 on (five hard budgets, rpm, itpm and
// otpm, the concurrency queue and follow_upstream, the brake; limits set
// so that none trips) against Ferry with all of them off, at 16 and 64
// concurrent clients, in rounds that alternate the two (in random order)
// so both meet the same machine. Each reports Ferry's added p50: its p50
// minus the p50 of the same requests sent straight to the fake API in the
// same rounds.
//
//	go test -tags headless ./proxy/app -run '^$' -bench SpendGuard -benchtime 30x
func BenchmarkSpendGuard(b *testing.B) {
	fake := testsupport.NewFakeAPI(b, testsupport.WithRecordLimit(16))
	off := benchCore(b, fake, map[string]string{
		limit.KeyRPM: "0", limit.KeyFollowUpstream: "off", brake.KeyEnabled: "off",
	})
	on := benchCore(b, fake, map[string]string{
		limit.KeyRPM: "1000000", limit.KeyITPM: "1000000000", limit.KeyOTPM: "1000000000",
		limit.KeyConcurrency: "10000", limit.KeyFollowUpstream: "on", brake.KeyEnabled: "on",
	})
	for _, bg := range []budget.Budget{
		{Name: budget.Daily, Limit: 1e6}, {Name: budget.Monthly, Limit: 1e6}, {Name: budget.RequestsDaily, Limit: 1e8},
		{Name: budget.Session, Limit: 1e6}, {Name: budget.Rate, Limit: 1e6, Basis: budget.APIEquivalent},
	} {
		if err := on.Budgets().Set(bg); err != nil {
			b.Fatal(err)
		}
	}
	body := agentBody(12)
	targets := []struct{ name, url string }{{"direct", fake.URL}, {"off", off.BaseURL()}, {"on", on.BaseURL()}}

	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			lat := map[string][]time.Duration{}
			hcs := map[string]*http.Client{}
			for _, tg := range targets {
				hcs[tg.name] = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: clients}}
			}
			const perClient = 4
			for b.Loop() {
				order := slices.Clone(targets)
				rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				for _, tg := range order {
					lat[tg.name] = append(lat[tg.name], round(b, hcs[tg.name], tg.url, body, clients, perClient)...)
				}
			}
			p50 := map[string]time.Duration{}
			for name, d := range lat {
				slices.Sort(d)
				p50[name] = d[len(d)/2]
			}
			addedOff := p50["off"] - p50["direct"]
			addedOn := p50["on"] - p50["direct"]
			b.ReportMetric(float64(p50["direct"].Microseconds()), "p50-µs-direct")
			b.ReportMetric(float64(addedOff.Microseconds()), "added-p50-µs-off")
			b.ReportMetric(float64(addedOn.Microseconds()), "added-p50-µs-on")
			if addedOff > 0 {
				b.ReportMetric(float64(addedOn)/float64(addedOff), "on/off")
			}
			for _, hc := range hcs {
				hc.CloseIdleConnections()
			}
		})
	}
}

// round sends clients×perClient requests from clients goroutines and
// returns each one's latency.
// turnSeq numbers every request of the benchmark.
var turnSeq atomic.Int64

func round(b *testing.B, hc *http.Client, url, body string, clients, perClient int) []time.Duration {
	var mu sync.Mutex
	out := make([]time.Duration, 0, clients*perClient)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			session := fmt.Sprintf("bench-session-%d", c)
			for i := range perClient {
				// Each request a new turn, as an agent's are: identical
				// ones would be what the brake and the cache look for.
				// Numbered across rounds too: a body sent again in the next
				// round would be a dedup-cache hit.
				reqBody := body[:len(body)-2] + fmt.Sprintf(`,{"role":"assistant","content":"Done."},{"role":"user","content":"next %d.%d.%d"}]}`, c, i, turnSeq.Add(1))
				req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(reqBody))
				req.Header.Set("x-api-key", "sk-ant-api03-bench")
				req.Header.Set("content-type", "application/json")
				req.Header.Set("X-Claude-Code-Session-Id", session)
				req.Header.Set(testsupport.ScenarioHeader, testsupport.ScenarioMessage)
				start := time.Now()
				res, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(start)
				if res.StatusCode != 200 {
					errs <- fmt.Errorf("%s: status %d", url, res.StatusCode)
					return
				}
				mu.Lock()
				out = append(out, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	return out
}

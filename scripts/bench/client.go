package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

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

// seqMark is where do writes each request's sequence number: every body
// differs, as every real client's request does, so Ferry's dedup cache
// and runaway brake see what they see in use (a repeated body would be
// answered from the cache, and measure that instead of the proxy).
const seqMark = "req-000000000000 "

// seq numbers the requests of the whole run.
var seq atomic.Int64

// unique returns a copy of body with its sequence number filled in.
func unique(body []byte) []byte {
	b := bytes.Clone(body)
	i := bytes.Index(b, []byte(seqMark))
	if i < 0 {
		return b
	}
	n := strconv.FormatInt(seq.Add(1), 10)
	copy(b[i+len(seqMark)-1-len(n):], n)
	return b
}

func requestBody(size int, stream bool) []byte {
	head := `{"model":"claude-sonnet-4-5","max_tokens":1024,`
	if stream {
		head += `"stream":true,`
	}
	head += `"system":"` + seqMark
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/v1/messages", bytes.NewReader(unique(body)))
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

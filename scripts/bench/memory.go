package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

type rss struct{ rssKB, hwmKB int64 }

func readRSS(pid int) (rss, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rss{}, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	var r rss
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			r.rssKB = n
		case "VmHWM:":
			r.hwmKB = n
		}
	}
	return r, nil
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// settleRSS waits two seconds after start (the first probe, the recorder's
// first flush) and reads the idle RSS.
func settleRSS(ctx context.Context, pid int) (rss, error) {
	select {
	case <-ctx.Done():
		return rss{}, ctx.Err()
	case <-time.After(2 * time.Second):
	}
	return readRSS(pid)
}

// openResult is what one proxy did with the open streams.
type openResult struct {
	idle, before, peak, settled rss
	opened, identical           int64
	openTook                    time.Duration
	problem                     string
}

// memoryPhase opens c.open slow streams at once through each proxy in
// turn (Ferry, then the bare proxy for comparison) and samples the proxy's
// memory until they end.
func memoryPhase(ctx context.Context, c config, proxies []target, pids []int, idle []rss) error {
	fmt.Printf("### Memory (/proc/PID/status)\n\n")
	if c.skipRSS {
		fmt.Println("| process | idle after start (VmRSS) | goal |")
		fmt.Println("|---|---:|---|")
		for i, t := range proxies {
			fmt.Printf("| %s | %s | %s |\n", t.name, mb(idle[i].rssKB), map[bool]string{true: "< 25 MB", false: ""}[i == 0])
		}
		fmt.Println()
		return nil
	}
	scenario := fmt.Sprintf("%s;gap=1s;total=%s", testsupport.ScenarioSlow, c.openTotal)
	want, err := testsupport.Body(scenario)
	if err != nil {
		return fmt.Errorf("expected body of %s: %w", scenario, err)
	}
	res := make([]openResult, len(proxies))
	for i, t := range proxies {
		res[i], err = openStreams(ctx, c, t, pids[i], scenario, want)
		if err != nil {
			return err
		}
		res[i].idle = idle[i]
	}
	fmt.Printf("%d streams of `%s` opened at once through each proxy in turn; RSS sampled every 200 ms until they ended; VmHWM is the process's peak over the whole run. Goals for Ferry: idle < 25 MB, %d open streams < 150 MB.\n\n",
		c.open, scenario, c.open)
	fmt.Println("| process | idle after start | before the streams | peak VmRSS, streams open | VmHWM | all open after | streams complete and identical | 3 s after they ended |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, t := range proxies {
		r := res[i]
		fmt.Printf("| %s | %s | %s | %s | %s | %.1f s | %d / %d | %s |\n", t.name, mb(r.idle.rssKB), mb(r.before.rssKB), mb(r.peak.rssKB),
			mb(r.peak.hwmKB), r.openTook.Seconds(), r.identical, c.open, mb(r.settled.rssKB))
	}
	fmt.Println()
	for i, t := range proxies {
		if res[i].problem != "" {
			fmt.Printf("%s, first problem: %s\n\n", t.name, res[i].problem)
		}
	}
	return nil
}

func openStreams(ctx context.Context, c config, t target, pid int, scenario string, want []byte) (openResult, error) {
	var out openResult
	var err error
	if out.before, err = readRSS(pid); err != nil {
		return out, err
	}
	cl := newClient(0)
	defer cl.CloseIdleConnections()
	t.client = cl
	body := requestBody(c.bodyBytes, true)
	var started, identical atomic.Int64
	var firstProblem atomic.Value
	allStarted := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	openAt := time.Now()
	for i := range c.open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := doOpen(ctx, t, body, scenario, func() {
				if started.Add(1) == int64(c.open) {
					once.Do(func() { close(allStarted) })
				}
			})
			if r.err == nil && r.status == http.StatusOK && bytes.Equal(r.body, want) {
				identical.Add(1)
				return
			}
			firstProblem.CompareAndSwap(nil, fmt.Sprintf("stream %d: status %d, %d of %d bytes, %v", i, r.status, len(r.body), len(want), r.err))
		}()
		if i%100 == 99 {
			time.Sleep(20 * time.Millisecond) // spread the connects over the accept backlog
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-allStarted:
	case <-done:
	case <-ctx.Done():
	}
	out.opened, out.openTook = started.Load(), time.Since(openAt)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		if r, err := readRSS(pid); err == nil {
			out.peak.rssKB = max(out.peak.rssKB, r.rssKB)
			out.peak.hwmKB = max(out.peak.hwmKB, r.hwmKB)
		}
		select {
		case <-done:
			running = false
		case <-tick.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return out, err
	}
	cl.CloseIdleConnections()
	time.Sleep(3 * time.Second)
	if out.settled, err = readRSS(pid); err != nil {
		return out, err
	}
	out.peak.hwmKB = max(out.peak.hwmKB, out.settled.hwmKB)
	out.identical = identical.Load()
	if p, ok := firstProblem.Load().(string); ok {
		out.problem = p
	}
	return out, nil
}

// doOpen is do for the memory phase: it calls first when the response
// headers arrived, so the caller knows the stream is open.
func doOpen(ctx context.Context, t target, body []byte, scenario string, first func()) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/v1/messages", bytes.NewReader(body))
	if err != nil {
		first()
		return result{err: err}
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("x-api-key", t.key)
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	t.sent.Add(1)
	resp, err := t.client.Do(req)
	first()
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: b, err: err}
}

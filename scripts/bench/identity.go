package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// identityScenarios are the streams of the byte-identity phase, in turn.
var identityScenarios = []struct {
	scenario string
	gzip     bool
}{
	{testsupport.ScenarioStream, false},
	{testsupport.ScenarioToolUse, false},
	{testsupport.ScenarioThinking, false},
	{testsupport.ScenarioUnknownEvent, false},
	{testsupport.ScenarioUTF8Split + ";split_gap=1ms", false},
	{testsupport.ScenarioLarge + ";frames=300", false},
	{testsupport.ScenarioStream + ";gzip=accepted", true},
	{testsupport.ScenarioThinking + ";gzip=accepted", true},
}

func identityPhase(ctx context.Context, c config, ferry target) error {
	// The fake's bodies are deterministic: plain, and gzipped when the
	// request Ferry sent upstream offered gzip (Ferry offers identity for
	// streams, so that a broken stream can still be repaired).
	want := make([][]byte, len(identityScenarios))
	wantGzip := make([][]byte, len(identityScenarios))
	for i, s := range identityScenarios {
		var err error
		if want[i], err = testsupport.Body(s.scenario); err != nil {
			return fmt.Errorf("expected body of %s: %w", s.scenario, err)
		}
		if s.gzip {
			if wantGzip[i], err = testsupport.GzipBody(s.scenario); err != nil {
				return fmt.Errorf("expected gzip body of %s: %w", s.scenario, err)
			}
		}
	}
	var gzipped atomic.Int64
	body := requestBody(c.bodyBytes, true)
	var next, identical, truncated, differing, failed atomic.Int64
	var firstProblem atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range c.streamClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(c.streams) || ctx.Err() != nil {
					return
				}
				k := int(i) % len(identityScenarios)
				s := identityScenarios[k]
				r := do(ctx, ferry, body, true, s.scenario, s.gzip, true)
				exp := want[k]
				if r.gzipped {
					gzipped.Add(1)
					exp = wantGzip[k]
				}
				switch {
				case r.err != nil || r.status != http.StatusOK:
					failed.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: status %d, %v", s.scenario, r.status, r.err))
					if len(r.body) < len(exp) && bytes.HasPrefix(exp, r.body) {
						truncated.Add(1)
					}
				case bytes.Equal(r.body, exp):
					identical.Add(1)
				case len(r.body) < len(exp) && bytes.HasPrefix(exp, r.body):
					truncated.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: truncated at %d of %d bytes", s.scenario, len(r.body), len(exp)))
				default:
					differing.Add(1)
					firstProblem.CompareAndSwap(nil, fmt.Sprintf("%s: %d bytes differ from the %d expected", s.scenario, len(r.body), len(exp)))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	el := time.Since(start)
	names := make([]string, len(identityScenarios))
	for i, s := range identityScenarios {
		names[i] = "`" + s.scenario + "`"
	}
	fmt.Printf("### %d streams through Ferry, byte for byte\n\n", c.streams)
	fmt.Printf("%d concurrent clients, scenarios in turn: %s; the `gzip=accepted` ones are sent with `Accept-Encoding: gzip` (%d responses came gzipped and were compared compressed; Ferry offers streams identity upstream). Goal: 0 truncated, all identical.\n\n",
		c.streamClients, strings.Join(names, ", "), gzipped.Load())
	fmt.Println("| streams | byte-identical | truncated | differing | failed | time |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| %d | %d | %d | %d | %d | %.1f s |\n\n", c.streams, identical.Load(), truncated.Load(), differing.Load(), failed.Load(), el.Seconds())
	if p := firstProblem.Load(); p != nil {
		fmt.Printf("First problem: %s\n\n", p)
	}
	return nil
}

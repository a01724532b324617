package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

type cell struct {
	lat     []time.Duration
	elapsed time.Duration
}

func (c cell) p50() time.Duration { return pct(c.lat, 0.50) }

func (c cell) p99() time.Duration { return pct(c.lat, 0.99) }

func (c cell) rps() float64 {
	if c.elapsed <= 0 {
		return 0
	}
	return float64(len(c.lat)) / c.elapsed.Seconds()
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// latencyPhase measures one body size at the given client counts and
// prints its table; with throughput, also the throughput at the last count.
func latencyPhase(ctx context.Context, c config, targets []target, bodyBytes int, clients []int, n int, title string, throughput bool) error {
	type key struct {
		stream bool
		conc   int
	}
	cells := map[key][]cell{}
	for _, stream := range []bool{false, true} {
		body := requestBody(bodyBytes, stream)
		for _, conc := range clients {
			res := make([]cell, len(targets))
			per := max(1, n/c.rounds)
			for round := range c.rounds {
				for j := range targets {
					ti := (j + round) % len(targets)
					t := targets[ti]
					// Warm the pools: conc connections, each used once.
					if _, _, _, err := drive(ctx, t, conc, 2*conc, c.maxTime, body, stream); err != nil {
						return fmt.Errorf("warm-up: %w", err)
					}
					lat, el, _, err := drive(ctx, t, conc, per, c.maxTime, body, stream)
					if err != nil {
						return err
					}
					res[ti].lat = append(res[ti].lat, lat...)
					res[ti].elapsed += el
				}
			}
			for i := range res {
				slices.Sort(res[i].lat)
			}
			cells[key{stream, conc}] = res
			fmt.Fprintf(os.Stderr, "bench: %d-byte bodies, %s, %d clients: direct %d, bare %d, Ferry %d requests\n",
				bodyBytes, map[bool]string{false: "non-streaming", true: "streaming"}[stream], conc,
				len(res[0].lat), len(res[1].lat), len(res[2].lat))
		}
	}

	fmt.Printf("### %s\n\n", title)
	fmt.Printf("Request bodies of %d bytes. Non-streaming: request sent → whole response read. Streaming: request sent → first `content_block_delta` (time to first token). ", bodyBytes)
	fmt.Printf("Up to %d requests per cell in %d interleaved rounds. *Added* = proxy − direct at the same percentile; the goal is Ferry's added ≤ 1.25× the bare proxy's.\n\n", n, c.rounds)
	fmt.Println("| load | clients | direct p50 / p99 | bare proxy p50 / p99 | Ferry p50 / p99 | bare added p50 / p99 | Ferry added p50 / p99 | Ferry ÷ bare added p50 / p99 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, stream := range []bool{false, true} {
		for _, conc := range clients {
			r := cells[key{stream, conc}]
			d, b, f := r[0], r[1], r[2]
			bAdd50, bAdd99 := b.p50()-d.p50(), b.p99()-d.p99()
			fAdd50, fAdd99 := f.p50()-d.p50(), f.p99()-d.p99()
			fmt.Printf("| %s | %d | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s | %s / %s |\n",
				map[bool]string{false: "non-streaming", true: "streaming TTFT"}[stream], conc,
				msf(d.p50()), msf(d.p99()), msf(b.p50()), msf(b.p99()), msf(f.p50()), msf(f.p99()),
				msf(bAdd50), msf(bAdd99), msf(fAdd50), msf(fAdd99), ratio(fAdd50, bAdd50), ratio(fAdd99, bAdd99))
		}
	}
	fmt.Println()
	if !throughput {
		return nil
	}
	top := clients[len(clients)-1]
	fmt.Printf("### Throughput at %d clients (requests/s)\n\n", top)
	fmt.Println("| load | direct | bare proxy | Ferry | Ferry ÷ bare (goal ≥ 0.8) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, stream := range []bool{false, true} {
		r := cells[key{stream, top}]
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.2f |\n", map[bool]string{false: "non-streaming", true: "streaming (whole stream)"}[stream],
			r[0].rps(), r[1].rps(), r[2].rps(), r[2].rps()/r[1].rps())
	}
	fmt.Println()
	return nil
}

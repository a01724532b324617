package filter

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// body200K is a Claude Code-shaped body of about 200 KB: its history of
// code, tool results and prose, with nothing secret in it.
func body200K() []byte {
	var more []string
	code := "func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\ttoken := r.Header.Get(\"Authorization\")\n\tif token == \"\" {\n\t\thttp.Error(w, \"no api key\", 401)\n\t\treturn\n\t}\n\tkey := sha256.Sum256([]byte(token))\n\tlog.Printf(\"request %x secret-free\", key[:4])\n}\n"
	for i := 0; len(strings.Join(more, ",")) < 190_000; i++ {
		more = append(more,
			`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_`+fmt.Sprint(i)+`","name":"Read","input":{"file_path":"/src/server.go"}}]}`,
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_`+fmt.Sprint(i)+`","content":`+jsonString(strings.Repeat(code, 4))+`}]}`)
	}
	return []byte(ccBody("PORT=8080\nMAX_TOKENS=4096\n", more...))
}

// BenchmarkSecrets200K: the built-in list over a 200 KB Claude Code
// body with nothing to redact; the body must come back as the very same
// bytes. p50 and p99 are of single calls (the issue asks p99 < 2 ms).
func BenchmarkSecrets200K(b *testing.B) {
	s := secretsSet(b)
	body := body200K()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	timed(b, func() {
		res := s.FilterRequest("/v1/messages", body, false)
		if len(res.Hits) != 0 || &res.Body[0] != &body[0] {
			b.Fatalf("hits %v or body changed", res.Hits)
		}
	})
}

// timed runs f per iteration and reports the percentiles of its CPU time
// (the goroutine locked to one thread) and of its wall time.
func timed(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu, wall []time.Duration
	for b.Loop() {
		c0, w0 := threadCPU(), time.Now()
		f()
		cpu = append(cpu, threadCPU()-c0)
		wall = append(wall, time.Since(w0))
	}
	slices.Sort(cpu)
	slices.Sort(wall)
	b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds()), "cpu-p50-µs")
	b.ReportMetric(float64(cpu[len(cpu)*99/100].Microseconds()), "cpu-p99-µs")
	b.ReportMetric(float64(wall[len(wall)/2].Microseconds()), "wall-p50-µs")
	b.ReportMetric(float64(wall[len(wall)*99/100].Microseconds()), "wall-p99-µs")
}

func BenchmarkKeywords10K200K(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := make([]string, 10_000)
	for i := range words {
		var w strings.Builder
		for range 2 + rng.IntN(3) {
			w.WriteRune(rune(0x4e00 + rng.IntN(0x5000)))
		}
		words[i] = w.String()
	}
	l := keywords("big", words...)
	s, err := Compile([]List{DefaultSecrets(), l}, testKey)
	if err != nil {
		b.Fatal(err)
	}
	body := body200K()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	timed(b, func() { s.FilterRequest("/v1/messages", body, false) })
}

// BenchmarkSecrets200KWithSecrets: the same body with ten secrets in its
// tool results, redacted.
func BenchmarkSecrets200KWithSecrets(b *testing.B) {
	s := secretsSet(b)
	body := []byte(strings.Replace(string(body200K()), "PORT=8080", strings.Repeat("GITHUB_TOKEN="+tGitHub+"\\nDB_PASSWORD=hunter2hunter2\\n", 5), 1))
	b.SetBytes(int64(len(body)))
	timed(b, func() {
		if res := s.FilterRequest("/v1/messages", body, false); len(res.Hits) != 2 {
			b.Fatalf("hits %v", res.Hits)
		}
	})
}

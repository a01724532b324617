package reqkey

import (
	"crypto/sha256"
	"testing"
)

// BenchmarkKey: the key of Claude Code-sized bodies. The pipeline computes
// it for every /v1/messages and count_tokens request, cache on or off
// (the runaway brake uses it too), so it must stay far below the proxy's
// own cost. sha256 of the raw bytes is the floor any content key pays.
//
//	CGO_ENABLED=0 go test ./proxy/reqkey -run XXX -bench . -benchmem
func BenchmarkKey(b *testing.B) {
	k, _ := New(testSecret)
	for _, size := range []struct {
		name string
		n    int
		body func(int, string) []byte
	}{{"4KB", 4_000, ClaudeCodeBody}, {"85KB", 85_000, ClaudeCodeBody}, {"85KB-wire-order", 85_000, ClaudeCodeWireBody}} {
		body := size.body(size.n, "cch=1a2b3;")
		r := Request{Method: "POST", Path: "/v1/messages", RawQuery: "beta=true", Body: body,
			Version: "2023-06-01", Betas: []string{"oauth-2025-04-20,interleaved-thinking-2025-05-14"}, Credential: "sk-ant-oat01-xxxx"}
		b.Run("key/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				k.Key(r)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-us/op")
		})
		b.Run("sha256-raw/"+size.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			cpu0 := cpuTime()
			for b.Loop() {
				sha256.Sum256(body)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-us/op")
		})
	}
}

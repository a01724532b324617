package filter

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
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

func BenchmarkSecrets200K(b *testing.B) {
	s := secretsSet(b)
	body := body200K()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res := s.FilterRequest("/v1/messages", body, false)
		if len(res.Hits) != 0 {
			b.Fatalf("hits %v", res.Hits)
		}
	}
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
	for b.Loop() {
		s.FilterRequest("/v1/messages", body, false)
	}
}

package filter

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// The filter stage's cost on the common path (nothing to redact), the
// current code against the oracle copy of the code before the fast paths
// (oracle_*_test.go), in one run:
//
//	CGO_ENABLED=0 go test -run '^$' -bench 'FilterRequest|Answer' -count 6 ./proxy/filter/ | benchstat -col /code -
//
// The bodies are scripts/bench.sh's (a padded system prompt, 4 KB and
// 85 KB) and a Claude Code-shaped 85 KB one (tool results full of Go
// code); the answers are the fake API's (what bench.sh gets) and a
// longer one of prose and code.

// benchBody is scripts/bench's request body of size bytes.
func benchBody(size int) []byte {
	head := `{"model":"claude-sonnet-4-5","max_tokens":1024,"system":"req-000000000042 `
	tail := `","messages":[{"role":"user","content":"Say hello in Chinese and English."}]}`
	pad := max(0, size-len(head)-len(tail))
	return []byte(head + strings.Repeat("You are a careful assistant. ", pad/29+1)[:pad] + tail)
}

// ccBodyOf is a Claude Code-shaped body of about size bytes with nothing
// secret in it.
func ccBodyOf(size int) []byte {
	var more []string
	code := "func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\ttoken := r.Header.Get(\"Authorization\")\n\tif token == \"\" {\n\t\thttp.Error(w, \"no api key\", 401)\n\t\treturn\n\t}\n\tkey := sha256.Sum256([]byte(token))\n\tlog.Printf(\"request %x secret-free\", key[:4])\n}\n"
	for i := 0; len(strings.Join(more, ",")) < size-10_000; i++ {
		more = append(more,
			`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_`+fmt.Sprint(i)+`","name":"Read","input":{"file_path":"/src/server.go"}}]}`,
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_`+fmt.Sprint(i)+`","content":`+jsonString(strings.Repeat(code, 4))+`}]}`)
	}
	return []byte(ccBody("PORT=8080\nMAX_TOKENS=4096\n", more...))
}

// fakeStream is the fake API's streamed answer (scripts/bench.sh's).
const fakeStream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake_stream\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":1200,\"cache_read_input_tokens\":3000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1000,\"ephemeral_1h_input_tokens\":200},\"output_tokens\":1,\"service_tier\":\"standard\",\"inference_geo\":\"us\",\"speed\":\"standard\"}}}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"! Ferry\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" carried\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" this\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" stream.\"}}\n\n" +
	"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":1200,\"cache_read_input_tokens\":3000,\"output_tokens\":15}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

// fakeJSON is the fake API's non-streamed answer.
const fakeJSON = `{"id":"msg_fake_message","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello! Ferry carried this message across."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":1200,"cache_read_input_tokens":3000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":200},"output_tokens":42,"service_tier":"standard","inference_geo":"us","speed":"standard","server_tool_use":{"web_search_requests":0}}}`

// proseText is about 4 KB of an answer: prose, a list and Go code.
func proseText() []string {
	para := "The handler reads the token from the `Authorization` header and returns 401 when it is missing. " +
		"Here is the fixed version:\n\n```go\nfunc handle(w http.ResponseWriter, r *http.Request) {\n\ttoken := r.Header.Get(\"Authorization\")\n\tif token == \"\" {\n\t\thttp.Error(w, \"no api key\", 401)\n\t\treturn\n\t}\n}\n```\n\n" +
		"1. The check now happens before the body is read.\n2. The error names what is missing, not the value.\n"
	text := strings.Repeat(para, 4096/len(para)+1)[:4096]
	var pieces []string
	for len(text) > 0 {
		n := min(len(text), 12+len(pieces)%9)
		pieces = append(pieces, text[:n])
		text = text[n:]
	}
	return pieces
}

func proseStream() string { return answer(proseText(), nil) }

// writeStream is an answer that writes a 64 KB Go file through a tool
// (Claude Code's Write), its input streamed in fragments of ~40 bytes.
func writeStream() string {
	code := "func (s *Server) handle(w http.ResponseWriter, r *http.Request) {\n\ttoken := r.Header.Get(\"Authorization\")\n\tif token == \"\" {\n\t\thttp.Error(w, \"no api key\", 401)\n\t\treturn\n\t}\n\tkey := sha256.Sum256([]byte(token))\n}\n"
	input := `{"file_path":"/src/server.go","content":` + jsonString(strings.Repeat(code, 64<<10/len(code))) + `}`
	var pieces []string
	for len(input) > 0 {
		n := min(len(input), 30+len(pieces)%20)
		pieces = append(pieces, input[:n])
		input = input[n:]
	}
	return answer([]string{"Writing the file."}, pieces)
}

func proseJSON() string {
	return `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":` +
		jsonString(strings.Join(proseText(), "")) + `}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":900}}`
}

// frameReader hands out one SSE frame per Read, as a streaming upstream
// flushing each frame does.
type frameReader struct{ data []byte }

func (r *frameReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := bytes.Index(r.data, []byte("\n\n")) + 2
	if n < 2 {
		n = len(r.data)
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}
func (r *frameReader) Close() error { return nil }

// defaultSet is the filter set a fresh install runs: the secrets list,
// requests redacted, answers flagged.
func defaultSet(tb testing.TB, response Action) *Set {
	tb.Helper()
	l := DefaultSecrets()
	if response != "" {
		l.ResponseMode = response
	}
	s, err := Compile([]List{l}, testKey)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func BenchmarkFilterRequest(b *testing.B) {
	s := defaultSet(b, "")
	bodies := []struct {
		name string
		body []byte
	}{{"bench-4K", benchBody(4096)}, {"bench-85K", benchBody(85_000)}, {"cc-85K", ccBodyOf(85_000)}, {"cc-200K", body200K()}}
	for _, bd := range bodies {
		for _, code := range []string{"old", "new"} {
			f := s.FilterRequest
			if code == "old" {
				f = func(p string, body []byte, sub bool) RequestResult { return oldFilterRequest(s, p, body, sub) }
			}
			b.Run("body="+bd.name+"/code="+code, func(b *testing.B) {
				b.SetBytes(int64(len(bd.body)))
				b.ReportAllocs()
				for b.Loop() {
					if res := f("/v1/messages", bd.body, false); len(res.Hits) != 0 {
						b.Fatal(res.Hits)
					}
				}
			})
		}
	}
}

func BenchmarkAnswer(b *testing.B) {
	streams := []struct{ name, data string }{{"fake", fakeStream}, {"prose-4K", proseStream()}, {"write-64K", writeStream()}}
	for _, mode := range []Action{Flag, Redact} {
		s := defaultSet(b, mode)
		for _, st := range streams {
			for _, code := range []string{"old", "new"} {
				data := []byte(st.data)
				b.Run("answer=stream-"+st.name+"/mode="+string(mode)+"/code="+code, func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					b.ReportAllocs()
					for b.Loop() {
						src := &frameReader{data} // read, never written
						var r io.ReadCloser
						if code == "old" {
							r = newOldStreamFilter(s, src, nil)
						} else {
							r = s.NewStreamFilter(src, nil)
						}
						n, _ := io.Copy(io.Discard, r)
						r.Close()
						if n != int64(len(data)) {
							b.Fatal(n)
						}
					}
				})
			}
		}
	}
	s := defaultSet(b, "")
	for _, js := range []struct{ name, data string }{{"fake", fakeJSON}, {"prose-4K", proseJSON()}} {
		body := []byte(js.data)
		for _, code := range []string{"old", "new"} {
			f := s.FilterAnswer
			if code == "old" {
				f = func(b []byte) RequestResult { return oldFilterAnswer(s, b) }
			}
			b.Run("answer=json-"+js.name+"/mode=flag/code="+code, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					if res := f(body); len(res.Hits) != 0 {
						b.Fatal(res.Hits)
					}
				}
			})
		}
	}
}

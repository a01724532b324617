package sse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// got is a frame copied out of the callback (Frame aliases buffers).
type got struct {
	Event string
	Data  string
	Raw   string
	Nil   bool // Data was nil
}

func (g got) String() string {
	return fmt.Sprintf("{%q %q nil=%v raw=%q}", g.Event, g.Data, g.Nil, g.Raw)
}

func collect(dst *[]got) func(Frame) {
	return func(f Frame) {
		*dst = append(*dst, got{Event: f.Event, Data: string(f.Data), Raw: string(f.Raw), Nil: f.Data == nil})
	}
}

// feedSplit feeds in at the given cut points and flushes at the end.
func feedSplit(s *Scanner, in []byte, cuts ...int) []got {
	var out []got
	fn := collect(&out)
	prev := 0
	for _, c := range cuts {
		s.Feed(in[prev:c], fn)
		prev = c
	}
	s.Feed(in[prev:], fn)
	s.Flush(fn)
	return out
}

func equalFrames(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestScanner(t *testing.T) {
	const anthropic = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n"
	tests := []struct {
		name    string
		in      string
		max     int
		want    []got
		skipped int
	}{
		{name: "empty", in: ""},
		{name: "anthropic frames", in: anthropic, want: []got{
			{"message_start", `{"type":"message_start"}`, "event: message_start\ndata: {\"type\":\"message_start\"}\n\n", false},
			{"ping", `{"type": "ping"}`, "event: ping\ndata: {\"type\": \"ping\"}\n\n", false},
		}},
		{name: "crlf", in: "event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n", want: []got{
			{"a", "1", "event: a\r\ndata: 1\r\n\r\n", false},
			{"b", "2", "event: b\r\ndata: 2\r\n\r\n", false},
		}},
		{name: "cr", in: "event: a\rdata: 1\r\revent: b\rdata: 2\r\r", want: []got{
			{"a", "1", "event: a\rdata: 1\r\r", false},
			{"b", "2", "event: b\rdata: 2\r\r", false},
		}},
		{name: "mixed line ends", in: "event: a\rdata: 1\r\n\ndata: 2\n\r\n", want: []got{
			{"a", "1", "event: a\rdata: 1\r\n\n", false},
			{"", "2", "data: 2\n\r\n", false},
		}},
		{name: "multi-line data", in: "data: a\ndata:b\ndata:  c\ndata\n\n", want: []got{
			{"", "a\nb\n c\n", "data: a\ndata:b\ndata:  c\ndata\n\n", false},
		}},
		{name: "empty data line", in: "data:\n\n", want: []got{{"", "", "data:\n\n", false}}},
		{name: "event without data", in: "event: x\n\n", want: []got{{"x", "", "event: x\n\n", true}}},
		{name: "last event line wins", in: "event: a\nevent: b\ndata: 1\n\n", want: []got{{"b", "1", "event: a\nevent: b\ndata: 1\n\n", false}}},
		{name: "comments are not frames", in: ":ping\n\n: keep-alive\n\nevent: a\n:inner\ndata: 1\n\n", want: []got{
			{"a", "1", ":ping\n\n: keep-alive\n\nevent: a\n:inner\ndata: 1\n\n", false},
		}},
		{name: "stray blank lines", in: "\n\n\r\ndata: 1\n\n\n", want: []got{{"", "1", "\n\n\r\ndata: 1\n\n", false}}},
		{name: "unknown event and fields", in: "event: brand_new\nid: 7\nretry: 10\nfoo: bar\ndata: {}\n\nid: 8\n\n", want: []got{
			{"brand_new", "{}", "event: brand_new\nid: 7\nretry: 10\nfoo: bar\ndata: {}\n\n", false},
			{"", "", "id: 8\n\n", true},
		}},
		{name: "incomplete frame is not dispatched", in: "event: a\ndata: 1\n\nevent: b\ndata: 2\n", want: []got{
			{"a", "1", "event: a\ndata: 1\n\n", false},
		}},
		{name: "colon in value", in: "data: {\"a\":\"b: c\"}\n\n", want: []got{{"", `{"a":"b: c"}`, "data: {\"a\":\"b: c\"}\n\n", false}}},
		{name: "utf8", in: "event: content_block_delta\ndata: {\"text\":\"你好，世界 🌏🚢\"}\n\n", want: []got{
			{"content_block_delta", `{"text":"你好，世界 🌏🚢"}`, "event: content_block_delta\ndata: {\"text\":\"你好，世界 🌏🚢\"}\n\n", false},
		}},
		{name: "frame over max is skipped", max: 30,
			in: "data: small\n\ndata: " + strings.Repeat("x", 100) + "\ndata: more\n\nevent: after\ndata: 2\n\n",
			want: []got{
				{"", "small", "data: small\n\n", false},
				{"after", "2", "event: after\ndata: 2\n\n", false},
			}, skipped: 1},
		{name: "crlf frame over max is skipped", max: 30,
			in: "data: " + strings.Repeat("x", 100) + "\r\n\r\nevent: after\r\ndata: 2\r\n\r\n",
			want: []got{
				{"after", "2", "event: after\r\ndata: 2\r\n\r\n", false},
			}, skipped: 1},
		{name: "comments over max are dropped, not counted", max: 30,
			in: ":" + strings.Repeat("p", 100) + "\n\ndata: 2\n\n",
			want: []got{
				{"", "2", "data: 2\n\n", false},
			}},
		{name: "frame exactly max", max: 9, in: "data: 1\n\n", want: []got{{"", "1", "data: 1\n\n", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			whole := feedSplit(&Scanner{Max: tt.max}, in)
			if !equalFrames(whole, tt.want) {
				t.Fatalf("whole feed:\n got %v\nwant %v", whole, tt.want)
			}
			// Every single cut, and every byte on its own.
			for i := 0; i <= len(in); i++ {
				s := &Scanner{Max: tt.max}
				if out := feedSplit(s, in, i); !equalFrames(out, tt.want) {
					t.Fatalf("cut at %d:\n got %v\nwant %v", i, out, tt.want)
				}
				if s.Skipped() != tt.skipped {
					t.Fatalf("cut at %d: skipped %d, want %d", i, s.Skipped(), tt.skipped)
				}
			}
			s := &Scanner{Max: tt.max}
			var out []got
			for i := range in {
				s.Feed(in[i:i+1], collect(&out))
			}
			s.Flush(collect(&out))
			if !equalFrames(out, tt.want) || s.Skipped() != tt.skipped {
				t.Fatalf("byte by byte:\n got %v (skipped %d)\nwant %v", out, s.Skipped(), tt.want)
			}
		})
	}
}

// A UTF-8 character split across two network reads must come out whole.
func TestScannerUTF8SplitAcrossFeeds(t *testing.T) {
	frame := []byte("event: content_block_delta\ndata: {\"type\":\"text_delta\",\"text\":\"中文🚀\"}\n\n")
	mid := bytes.Index(frame, []byte("中")) + 1 // inside the 3-byte character
	emoji := bytes.Index(frame, []byte("🚀")) + 2
	var out []got
	var s Scanner
	s.Feed(frame[:mid], collect(&out))
	s.Feed(frame[mid:emoji], collect(&out))
	if len(out) != 0 {
		t.Fatalf("frame reported before its end: %v", out)
	}
	s.Feed(frame[emoji:], collect(&out))
	if len(out) != 1 || out[0].Data != `{"type":"text_delta","text":"中文🚀"}` || out[0].Raw != string(frame) {
		t.Fatalf("got %v", out)
	}
}

// A blank line ended by '\r' as the last byte fed waits for the next byte;
// Flush releases it at the end of the stream.
func TestScannerTrailingCR(t *testing.T) {
	var out []got
	var s Scanner
	s.Feed([]byte("data: 1\r\r"), collect(&out))
	if len(out) != 0 {
		t.Fatalf("reported before knowing the terminator: %v", out)
	}
	if s.InFrame() {
		t.Fatal("InFrame after a complete blank line")
	}
	s.Feed([]byte("data: 2\r\r"), collect(&out))
	if len(out) != 1 || out[0].Raw != "data: 1\r\r" {
		t.Fatalf("got %v", out)
	}
	s.Flush(collect(&out))
	if len(out) != 2 || out[1].Raw != "data: 2\r\r" {
		t.Fatalf("after Flush got %v", out)
	}
}

func TestScannerInFrame(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"data: 1\n\n", false},
		{":ping\n\n", false},
		{"data: 1\n", true},
		{"data: 1\n\nda", true},
		{"data: 1\r\n\r", false},
		{":ping\n", false}, // a comment line changes nothing for what follows
	}
	for _, tt := range tests {
		var s Scanner
		s.Feed([]byte(tt.in), func(Frame) {})
		if got := s.InFrame(); got != tt.want {
			t.Errorf("InFrame after %q = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// The scanner only reads: the caller's bytes are never modified.
func TestScannerDoesNotModifyInput(t *testing.T) {
	in := []byte("event: a\r\ndata: 1\r\ndata: 2\r\n\r\n:c\n\n")
	orig := bytes.Clone(in)
	var s Scanner
	s.Feed(in[:5], func(Frame) {})
	s.Feed(in[5:], func(Frame) {})
	if !bytes.Equal(in, orig) {
		t.Fatal("input modified")
	}
}

func TestScannerAllocations(t *testing.T) {
	stream := []byte(benchStream)
	var s Scanner
	n := 0
	fn := func(f Frame) { n++ }
	allocs := testing.AllocsPerRun(100, func() {
		// Whole frames, then frames cut in the middle.
		s.Feed(stream, fn)
		s.Feed(stream[:37], fn)
		s.Feed(stream[37:], fn)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

const benchStream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: ping\ndata: {\"type\": \"ping\"}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

func BenchmarkScanner(b *testing.B) {
	stream := []byte(benchStream)
	for _, chunk := range []int{len(benchStream), 512, 64} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			var s Scanner
			fn := func(Frame) {}
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				for p := stream; len(p) > 0; {
					n := min(chunk, len(p))
					s.Feed(p[:n], fn)
					p = p[n:]
				}
			}
		})
	}
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream":                    true,
		"text/event-stream; charset=utf-8":     true,
		"Text/Event-Stream;charset=UTF-8":      true,
		" text/event-stream ":                  true,
		"application/json":                     false,
		"text/event-streams":                   false,
		"":                                     false,
		"application/x-ndjson; event-stream=1": false,
	} {
		if got := IsEventStream(ct); got != want {
			t.Errorf("IsEventStream(%q) = %v, want %v", ct, got, want)
		}
	}
}

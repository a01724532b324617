package usage

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// streamOf builds a realistic streamed answer of about size bytes: text
// deltas of a few words each, as Claude sends them.
func streamOf(size int) []byte {
	var b bytes.Buffer
	b.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":2500,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":40000,\"output_tokens\":1}}}\n\n")
	b.WriteString("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
	n := 0
	for b.Len() < size {
		fmt.Fprintf(&b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word %d and some more text\"}}\n\n", n)
		n++
		if n%200 == 0 {
			b.WriteString("event: ping\ndata: {\"type\": \"ping\"}\n\n")
		}
	}
	b.WriteString("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
	fmt.Fprintf(&b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%d}}\n\n", n*6)
	b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	return b.Bytes()
}

// BenchmarkMeterStream measures the meter's cost per streamed byte (see
// MB/s): one request of ~1 MiB written in network-sized pieces.
func BenchmarkMeterStream(b *testing.B) {
	body := streamOf(1 << 20)
	for _, chunk := range []int{128, 1400, 16 << 10} {
		b.Run(fmt.Sprintf("writes=%dB", chunk), func(b *testing.B) {
			ms := NewMeters(MetersOptions{RateLimits: &RateLimitTracker{}})
			r := httptest.NewRequest(http.MethodPost, "/v1/messages", nil)
			h := http.Header{"Content-Type": {"text/event-stream"}}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				m := ms.NewObserver(r, nil, time.Now())
				m.Response(200, h)
				for p := body; len(p) > 0; {
					n := min(chunk, len(p))
					m.Write(p[:n])
					p = p[n:]
				}
				var rec storage.Record
				m.Done(&rec)
				if rec.Tokens.CacheRead != 40000 {
					b.Fatal("usage lost")
				}
			}
		})
	}
}

// BenchmarkMeterGzipStream: the same stream gzipped (decoded at Done).
func BenchmarkMeterGzipStream(b *testing.B) {
	body := gzipped(b, streamOf(1<<20))
	plain := len(streamOf(1 << 20))
	ms := NewMeters(MetersOptions{})
	r := httptest.NewRequest(http.MethodPost, "/v1/messages", nil)
	h := http.Header{"Content-Type": {"text/event-stream"}, "Content-Encoding": {"gzip"}}
	b.SetBytes(int64(plain))
	b.ReportAllocs()
	for b.Loop() {
		m := ms.NewObserver(r, nil, time.Now())
		m.Response(200, h)
		for p := body; len(p) > 0; {
			n := min(1400, len(p))
			m.Write(p[:n])
			p = p[n:]
		}
		var rec storage.Record
		m.Done(&rec)
		if rec.Tokens.CacheRead != 40000 {
			b.Fatal("usage lost")
		}
	}
}

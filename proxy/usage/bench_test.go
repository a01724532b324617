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
			ms := NewMeters(MetersOptions{Headroom: &HeadroomTracker{}})
			b.SetBytes(int64(len(body)))
			meterStreamLoop(b, ms, http.Header{"Content-Type": {"text/event-stream"}}, body, chunk)
		})
	}
}

// BenchmarkMeterGzipStream: the same stream gzipped (decoded at Done).
func BenchmarkMeterGzipStream(b *testing.B) {
	body := gzipped(b, streamOf(1<<20))
	plain := len(streamOf(1 << 20))
	b.SetBytes(int64(plain))
	meterStreamLoop(b, NewMeters(MetersOptions{}), http.Header{"Content-Type": {"text/event-stream"}, "Content-Encoding": {"gzip"}}, body, 1400)
}

// meterStreamLoop meters body, written in pieces of chunk bytes, once per
// iteration: the loop of the streamOf benchmarks.
func meterStreamLoop(b *testing.B, ms *Meters, h http.Header, body []byte, chunk int) {
	r := httptest.NewRequest(http.MethodPost, "/v1/messages", nil)
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
}

// BenchmarkMeterDoneSmallStream measures the fixed cost of metering one
// request, which dominates for the short answers Claude Code sends all day:
// a small stream with cache fields and Anthropic's real response headers,
// most of which are rate-limit headers.
func BenchmarkMeterDoneSmallStream(b *testing.B) {
	body := []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Small\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":1500,\"cache_read_input_tokens\":40000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1500,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Sure, the\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" file is in\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" proxy/usage.\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":1500,\"cache_read_input_tokens\":40000,\"output_tokens\":9}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	h := anthropicStreamHeader()
	ms := NewMeters(MetersOptions{Headroom: &HeadroomTracker{}})
	r := httptest.NewRequest(http.MethodPost, "/v1/messages", nil)
	b.ReportAllocs()
	for b.Loop() {
		m := ms.NewObserver(r, nil, time.Now())
		m.Response(200, h)
		m.Write(body)
		var rec storage.Record
		m.Done(&rec)
		if rec.Tokens.CacheRead != 40000 || rec.Tokens.CacheWrite5m != 1500 || rec.Tokens.Output != 9 {
			b.Fatalf("usage lost: %+v", rec.Tokens)
		}
	}
}

// anthropicStreamHeader is the header of a streamed answer as the API sends
// it, rate-limit headers included.
func anthropicStreamHeader() http.Header {
	return http.Header{
		"Content-Type":                                {"text/event-stream; charset=utf-8"},
		"Cache-Control":                               {"no-cache"},
		"Date":                                        {"Fri, 20 Nov 2026 10:00:00 GMT"},
		"Request-Id":                                  {"req_011CVHz4c7G3mYgW5yJtq1Xp"},
		"Anthropic-Organization-Id":                   {"5f3c1a2e-8d4b-4c6a-9e7f-0a1b2c3d4e5f"},
		"Via":                                         {"1.1 google"},
		"Cf-Cache-Status":                             {"DYNAMIC"},
		"Server":                                      {"cloudflare"},
		"X-Robots-Tag":                                {"none"},
		"Strict-Transport-Security":                   {"max-age=31536000; includeSubDomains; preload"},
		"Anthropic-Ratelimit-Requests-Limit":          {"4000"},
		"Anthropic-Ratelimit-Requests-Remaining":      {"3999"},
		"Anthropic-Ratelimit-Requests-Reset":          {"2026-11-20T10:00:01Z"},
		"Anthropic-Ratelimit-Tokens-Limit":            {"2400000"},
		"Anthropic-Ratelimit-Tokens-Remaining":        {"2358000"},
		"Anthropic-Ratelimit-Tokens-Reset":            {"2026-11-20T10:00:02Z"},
		"Anthropic-Ratelimit-Input-Tokens-Limit":      {"2000000"},
		"Anthropic-Ratelimit-Input-Tokens-Remaining":  {"1958000"},
		"Anthropic-Ratelimit-Input-Tokens-Reset":      {"2026-11-20T10:00:02Z"},
		"Anthropic-Ratelimit-Output-Tokens-Limit":     {"400000"},
		"Anthropic-Ratelimit-Output-Tokens-Remaining": {"400000"},
		"Anthropic-Ratelimit-Output-Tokens-Reset":     {"2026-11-20T10:00:00Z"},
	}
}

package usage

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"log/slog"
	"net/http"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
)

func TestMeterDeflate(t *testing.T) {
	var z, raw bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(nonStreamBody))
	zw.Close()
	fw, _ := flate.NewWriter(&raw, flate.DefaultCompression)
	fw.Write([]byte(nonStreamBody))
	fw.Close()
	for name, body := range map[string][]byte{"zlib": z.Bytes(), "raw deflate": raw.Bytes()} {
		c := meterCase{resp: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"deflate"}}, body: body}
		rec := meter(t, NewMeters(MetersOptions{}), c, bytewise(body))
		// as the plain body: 1200×3 + 350×15 = 8850 µ$
		if rec.Tokens != (storage.Tokens{Input: 1200, Output: 350}) || !near(rec.CostUSD, 0.00885) {
			t.Errorf("%s: %+v %v", name, rec.Tokens, rec.CostUSD)
		}
	}
}

func TestMeterStreamWithoutEventLines(t *testing.T) {
	// Only data: lines (a proxy upstream stripped event:); the type is in the JSON.
	body := []byte("data: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-6\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n" +
		"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n" +
		"data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":7}}\n\n")
	for _, ws := range splits(body) {
		rec := meter(t, NewMeters(MetersOptions{}), meterCase{resp: sseHeader()}, ws)
		// 10×3 + 7×15 = 135 µ$
		if rec.Tokens != (storage.Tokens{Input: 10, Output: 7}) || !near(rec.CostUSD, 0.000135) || rec.FirstToken <= 0 {
			t.Fatalf("%+v %v %v", rec.Tokens, rec.CostUSD, rec.FirstToken)
		}
	}
}

func TestMeterCacheSplit(t *testing.T) {
	cases := []struct {
		name, usage string
		want        storage.Tokens
	}{
		{"no breakdown: all 5m", `{"input_tokens":1,"cache_creation_input_tokens":500,"output_tokens":2}`,
			storage.Tokens{Input: 1, CacheWrite5m: 500, Output: 2}},
		{"1h only", `{"input_tokens":1,"cache_creation_input_tokens":500,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":500},"output_tokens":2}`,
			storage.Tokens{Input: 1, CacheWrite1h: 500, Output: 2}},
		{"breakdown without total", `{"input_tokens":1,"cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":70},"output_tokens":2}`,
			storage.Tokens{Input: 1, CacheWrite5m: 30, CacheWrite1h: 70, Output: 2}},
		{"total above breakdown: the rest is 5m", `{"input_tokens":1,"cache_creation_input_tokens":150,"cache_creation":{"ephemeral_5m_input_tokens":30,"ephemeral_1h_input_tokens":70},"output_tokens":2}`,
			storage.Tokens{Input: 1, CacheWrite5m: 80, CacheWrite1h: 70, Output: 2}},
		{"null fields", `{"input_tokens":null,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":2}`,
			storage.Tokens{Output: 2}},
	}
	for _, c := range cases {
		body := []byte(`{"type":"message","model":"claude-haiku-4-5","usage":` + c.usage + `}`)
		rec := meter(t, NewMeters(MetersOptions{}), meterCase{resp: jsonHeader(), body: body}, whole(body))
		if rec.Tokens != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, rec.Tokens, c.want)
		}
	}
}

func TestMeterNonJSONErrorBody(t *testing.T) {
	body := []byte("<html><body>502 Bad Gateway</body></html>")
	rec := meter(t, NewMeters(MetersOptions{}), meterCase{status: 502, resp: http.Header{"Content-Type": {"text/html"}}, body: body}, whole(body))
	if rec.ErrorType != "" || !rec.PriceKnown || rec.CostUSD != 0 {
		t.Errorf("%+v", rec)
	}
}

func TestMeterIgnoresOtherEndpoints(t *testing.T) {
	body := []byte(`{"data":[{"type":"model","id":"claude-opus-5-5"}],"has_more":false}`)
	ms := NewMeters(MetersOptions{})
	rec := meter(t, ms, meterCase{method: http.MethodGet, path: "/v1/models", resp: jsonHeader(), body: body}, whole(body))
	if rec.Tokens != (storage.Tokens{}) || !rec.PriceKnown || rec.UsageExtras != nil {
		t.Errorf("%+v", rec)
	}
}

// FuzzMeter feeds arbitrary bodies, cut anywhere, under every reading mode:
// the meter must never panic (a recovered panic marks it broken, which
// fails here) nor report a negative count.
func FuzzMeter(f *testing.F) {
	for _, name := range []string{"stream_cache.sse", "stream_thinking.sse", "chat_stream.sse", "batch_results.jsonl"} {
		f.Add(readFile(f, name), uint16(7), uint8(0))
	}
	f.Add([]byte(nonStreamBody), uint16(3), uint8(1))
	f.Add(gzipped(f, readFile(f, "stream_tool.sse")), uint16(11), uint8(4))
	f.Fuzz(func(t *testing.T, body []byte, cut uint16, how uint8) {
		paths := []string{"/v1/messages", "/v1/chat/completions", "/v1/messages/batches/b/results", "/v1/messages/count_tokens"}
		headers := []http.Header{sseHeader(), jsonHeader(), {"Content-Type": {"application/binary"}},
			{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, {"Content-Type": {"text/event-stream"}, "Content-Encoding": {"gzip"}}}
		c := meterCase{path: paths[int(how)%len(paths)], resp: headers[int(how/4)%len(headers)], body: body}
		step := int(cut)%64 + 1
		var ws [][]byte
		for p := body; len(p) > 0; {
			n := min(step, len(p))
			ws = append(ws, p[:n])
			p = p[n:]
		}
		var logs bytes.Buffer
		ms := NewMeters(MetersOptions{MaxBody: 1 << 16, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		r := meter(t, ms, c, ws)
		if logs.Len() > 0 {
			t.Fatalf("the meter failed: %s", logs.String())
		}
		tk := r.Tokens
		if tk.Input < 0 || tk.Output < 0 || tk.CacheRead < 0 || tk.CacheWrite5m < 0 || tk.CacheWrite1h < 0 || r.CostUSD < 0 {
			t.Fatalf("negative usage %+v %v", tk, r.CostUSD)
		}
	})
}

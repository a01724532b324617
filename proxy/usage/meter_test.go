package usage

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// t0 is the fake start of every metered request.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// clock is a fake clock that moves 10 ms forward at every reading, so
// times in the tests are exact and independent of the machine.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time {
	c.now = c.now.Add(10 * time.Millisecond)
	return c.now
}

type meterCase struct {
	name    string
	method  string
	path    string
	header  http.Header // request header
	reqBody string
	status  int
	resp    http.Header // response header
	body    []byte      // response body exactly as sent
	recTime time.Time   // rec.Time; zero means t0
	start   time.Time   // the request's start; zero means t0
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sseHeader() http.Header {
	return http.Header{"Content-Type": {"text/event-stream; charset=utf-8"}}
}

func jsonHeader() http.Header {
	return http.Header{"Content-Type": {"application/json"}}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// meter runs c through a Meter with the body cut into the given writes
// and returns the record as Done leaves it.
func meter(t testing.TB, ms *Meters, c meterCase, writes [][]byte) storage.Record {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	path := c.path
	if path == "" {
		path = "/v1/messages"
	}
	r := httptest.NewRequest(method, path, strings.NewReader(c.reqBody))
	for k, v := range c.header {
		r.Header[k] = v
	}
	var reqBody []byte
	if c.reqBody != "" {
		reqBody = []byte(c.reqBody)
	}
	start := c.start
	if start.IsZero() {
		start = t0
	}
	m := ms.NewObserver(r, reqBody, start)
	status := c.status
	if status == 0 {
		status = 200
	}
	m.Response(status, c.resp)
	for _, w := range writes {
		n, err := m.Write(w)
		if n != len(w) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(w), n, err)
		}
	}
	rec := storage.Record{Time: c.recTime, Path: r.URL.Path, Status: status}
	if rec.Time.IsZero() {
		rec.Time = t0
	}
	m.Done(&rec)
	return rec
}

func whole(b []byte) [][]byte { return [][]byte{b} }

func bytewise(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i := range b {
		out[i] = b[i : i+1]
	}
	return out
}

// splits returns every way to cut b into two writes, plus one byte at a
// time, plus every three-way cut at a coarse stride.
func splits(b []byte) [][][]byte {
	var out [][][]byte
	for i := 0; i <= len(b); i++ {
		out = append(out, [][]byte{b[:i], b[i:]})
	}
	out = append(out, bytewise(b))
	stride := max(1, len(b)/40)
	for i := 0; i <= len(b); i += stride {
		for j := i; j <= len(b); j += stride {
			out = append(out, [][]byte{b[:i], b[i:j], b[j:]})
		}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

type want struct {
	model      string
	tokens     storage.Tokens
	cost       float64
	known      bool
	row        string
	errType    string
	errClass   storage.ErrorClass
	tier       string
	batch      bool
	extras     map[string]string
	firstToken bool // a first token time is expected
}

func check(t *testing.T, rec storage.Record, w want) {
	t.Helper()
	if rec.Model != w.model {
		t.Errorf("Model = %q, want %q", rec.Model, w.model)
	}
	if rec.Tokens != w.tokens {
		t.Errorf("Tokens = %+v, want %+v", rec.Tokens, w.tokens)
	}
	if !near(rec.CostUSD, w.cost) {
		t.Errorf("CostUSD = %.12f, want %.12f", rec.CostUSD, w.cost)
	}
	if rec.PriceKnown != w.known {
		t.Errorf("PriceKnown = %v, want %v", rec.PriceKnown, w.known)
	}
	if w.row != "" && rec.PriceRow != w.row {
		t.Errorf("PriceRow = %q, want %q", rec.PriceRow, w.row)
	}
	if rec.ErrorType != w.errType {
		t.Errorf("ErrorType = %q, want %q", rec.ErrorType, w.errType)
	}
	if rec.ErrorClass != w.errClass {
		t.Errorf("ErrorClass = %q, want %q", rec.ErrorClass, w.errClass)
	}
	if rec.ServiceTier != w.tier {
		t.Errorf("ServiceTier = %q, want %q", rec.ServiceTier, w.tier)
	}
	if rec.Batch != w.batch {
		t.Errorf("Batch = %v, want %v", rec.Batch, w.batch)
	}
	if fmt.Sprint(rec.UsageExtras) != fmt.Sprint(w.extras) && !(len(rec.UsageExtras) == 0 && len(w.extras) == 0) {
		t.Errorf("UsageExtras = %v, want %v", rec.UsageExtras, w.extras)
	}
	if (rec.FirstToken > 0) != w.firstToken {
		t.Errorf("FirstToken = %v, want set: %v", rec.FirstToken, w.firstToken)
	}
}

const nonStreamBody = `{"id":"msg_01Plain","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi! 你好"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":350,"service_tier":"standard"}}`

// usageCases are the responses whose usage must come out exactly right,
// however the bytes are split. Every cost is worked by hand in $/MTok.
func usageCases(t testing.TB) []struct {
	c meterCase
	w want
} {
	cacheStream := readFile(t, "stream_cache.sse")
	return []struct {
		c meterCase
		w want
	}{
		{
			c: meterCase{name: "non-streaming", resp: jsonHeader(), body: []byte(nonStreamBody)},
			// claude-sonnet-4-5: 1200 in × $3 + 350 out × $15 = 3600 + 5250 = 8850 µ$ = $0.00885
			w: want{model: "claude-sonnet-4-5-20250929", tokens: storage.Tokens{Input: 1200, Output: 350},
				cost: 0.00885, known: true, row: "claude-sonnet-4-5", tier: "standard"},
		},
		{
			c: meterCase{name: "streaming with 5m and 1h cache writes and cache reads", resp: sseHeader(), body: cacheStream},
			// message_start: in 25, writes 3000 = 1000 (5m) + 2000 (1h), reads 10000; message_delta: out 420
			// (its input_tokens is null and must not wipe the 25).
			// claude-opus-4-5: 25×5 + 1000×6.25 + 2000×10 + 10000×0.50 + 420×25
			//   = 125 + 6250 + 20000 + 5000 + 10500 = 41875 µ$ = $0.041875
			w: want{model: "claude-opus-4-5-20251101", tokens: storage.Tokens{Input: 25, Output: 420, CacheWrite5m: 1000, CacheWrite1h: 2000, CacheRead: 10000},
				cost: 0.041875, known: true, row: "claude-opus-4-5", tier: "standard", firstToken: true},
		},
		{
			c: meterCase{name: "gzip stream", resp: http.Header{"Content-Type": {"text/event-stream"}, "Content-Encoding": {"gzip"}}, body: gzipped(t, cacheStream)},
			// the same stream, compressed: the same $0.041875
			w: want{model: "claude-opus-4-5-20251101", tokens: storage.Tokens{Input: 25, Output: 420, CacheWrite5m: 1000, CacheWrite1h: 2000, CacheRead: 10000},
				cost: 0.041875, known: true, row: "claude-opus-4-5", tier: "standard", firstToken: true},
		},
		{
			c: meterCase{name: "gzip non-streaming", resp: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, body: gzipped(t, []byte(nonStreamBody))},
			// as non-streaming: $0.00885
			w: want{model: "claude-sonnet-4-5-20250929", tokens: storage.Tokens{Input: 1200, Output: 350},
				cost: 0.00885, known: true, row: "claude-sonnet-4-5", tier: "standard"},
		},
		{
			c: meterCase{name: "stream broken after message_start keeps the cache counts", resp: sseHeader(), body: readFile(t, "stream_broken.sse")},
			// only message_start's usage: out 1.
			// 125 + 6250 + 20000 + 5000 + 1×25 = 31400 µ$ = $0.0314
			w: want{model: "claude-opus-4-5-20251101", tokens: storage.Tokens{Input: 25, Output: 1, CacheWrite5m: 1000, CacheWrite1h: 2000, CacheRead: 10000},
				cost: 0.0314, known: true, row: "claude-opus-4-5", tier: "standard", firstToken: true},
		},
		{
			c: meterCase{name: "error frame mid-stream", resp: sseHeader(), body: readFile(t, "stream_error.sse")},
			// claude-sonnet-4-6: 100×3 + 1×15 = 315 µ$
			w: want{model: "claude-sonnet-4-6", tokens: storage.Tokens{Input: 100, Output: 1},
				cost: 0.000315, known: true, row: "claude-sonnet-4-6", errType: "overloaded_error", errClass: storage.ClassUpstream5xx, firstToken: true},
		},
		{
			c: meterCase{name: "tool use", resp: sseHeader(), body: readFile(t, "stream_tool.sse")},
			// claude-haiku-4-5: 500×1 + 89×5 = 945 µ$
			w: want{model: "claude-haiku-4-5-20251001", tokens: storage.Tokens{Input: 500, Output: 89},
				cost: 0.000945, known: true, row: "claude-haiku-4-5", firstToken: true},
		},
		{
			c: meterCase{name: "thinking", resp: sseHeader(), body: readFile(t, "stream_thinking.sse")},
			// claude-opus-5-5: 40×4 + 1200×20 = 160 + 24000 = 24160 µ$
			w: want{model: "claude-opus-5-5", tokens: storage.Tokens{Input: 40, Output: 1200},
				cost: 0.02416, known: true, row: "claude-opus-5-5", tier: "standard", firstToken: true,
				extras: map[string]string{"inference_geo": "global", "speed": "standard"}},
		},
		{
			c: meterCase{name: "count_tokens is free and spends no tokens", path: "/v1/messages/count_tokens", reqBody: `{"model":"claude-sonnet-4-5","messages":[]}`,
				resp: jsonHeader(), body: []byte(`{"input_tokens":2095}`)},
			w: want{model: "claude-sonnet-4-5", known: true, row: "count_tokens (free)",
				extras: map[string]string{ExtraCountedTokens: "2095"}},
		},
		{
			c: meterCase{name: "unknown model is price unknown, not free", resp: jsonHeader(),
				body: []byte(`{"type":"message","model":"claude-opus-6","usage":{"input_tokens":10,"output_tokens":20}}`)},
			w: want{model: "claude-opus-6", tokens: storage.Tokens{Input: 10, Output: 20}, cost: 0, known: false},
		},
		{
			c: meterCase{name: "OpenAI-format JSON", path: "/v1/chat/completions", resp: jsonHeader(),
				body: []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"claude-sonnet-4-5","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1500,"completion_tokens":200,"total_tokens":1700,"prompt_tokens_details":{"cached_tokens":1000}}}`)},
			// prompt 1500 includes 1000 cached: in 500, reads 1000, out 200.
			// 500×3 + 1000×0.30 + 200×15 = 1500 + 300 + 3000 = 4800 µ$
			w: want{model: "claude-sonnet-4-5", tokens: storage.Tokens{Input: 500, CacheRead: 1000, Output: 200},
				cost: 0.0048, known: true, row: "claude-sonnet-4-5"},
		},
		{
			c: meterCase{name: "OpenAI-format stream", path: "/v1/chat/completions", resp: sseHeader(), body: readFile(t, "chat_stream.sse")},
			// as above: $0.0048
			w: want{model: "claude-sonnet-4-5", tokens: storage.Tokens{Input: 500, CacheRead: 1000, Output: 200},
				cost: 0.0048, known: true, row: "claude-sonnet-4-5", firstToken: true},
		},
		{
			c: meterCase{name: "error body", status: 429, reqBody: `{"model":"claude-sonnet-4-5","max_tokens":10}`, resp: jsonHeader(),
				body: []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011"}`)},
			w: want{model: "claude-sonnet-4-5", errType: "rate_limit_error", known: true},
		},
		{
			c: meterCase{name: "batch results", method: http.MethodGet, path: "/v1/messages/batches/msgbatch_01/results",
				resp: http.Header{"Content-Type": {"application/binary"}}, body: readFile(t, "batch_results.jsonl")},
			// two succeeded results, each priced on its own at half price:
			// req-1: (1000×3 + 100×15) × 0.5 = (3000 + 1500) × 0.5 = 2250 µ$
			// req-3: (2000×3 + 500×0.30 + 300×15) × 0.5 = (6000 + 150 + 4500) × 0.5 = 5325 µ$
			// total 7575 µ$; the errored one is not billed
			w: want{model: "claude-sonnet-4-5-20250929", tokens: storage.Tokens{Input: 3000, CacheRead: 500, Output: 400},
				cost: 0.007575, known: true, row: "claude-sonnet-4-5 batch×0.5", tier: "batch", batch: true,
				extras: map[string]string{ExtraBatchResults: "2 succeeded, 1 not billed"}},
		},
	}
}

func TestMeterUsage(t *testing.T) {
	for _, tc := range usageCases(t) {
		t.Run(tc.c.name, func(t *testing.T) {
			c := &clock{now: t0}
			ms := NewMeters(MetersOptions{Now: c.Now})
			rec := meter(t, ms, tc.c, whole(tc.c.body))
			check(t, rec, tc.w)
		})
	}
}

// TestMeterEverySplit feeds every response cut at every byte (and one byte
// at a time): the usage must not depend on how the network split it.
func TestMeterEverySplit(t *testing.T) {
	for _, tc := range usageCases(t) {
		t.Run(tc.c.name, func(t *testing.T) {
			for i, ws := range splits(tc.c.body) {
				c := &clock{now: t0}
				// Batch results are counted once per run: a fresh Meters each time.
				ms := NewMeters(MetersOptions{Now: c.Now})
				rec := meter(t, ms, tc.c, ws)
				if rec.Tokens != tc.w.tokens || !near(rec.CostUSD, tc.w.cost) || rec.PriceKnown != tc.w.known ||
					rec.Model != tc.w.model || rec.ErrorType != tc.w.errType || (rec.FirstToken > 0) != tc.w.firstToken {
					t.Fatalf("split %d (%d writes, first %d bytes): tokens %+v cost %v known %v model %q err %q first token %v",
						i, len(ws), len(ws[0]), rec.Tokens, rec.CostUSD, rec.PriceKnown, rec.Model, rec.ErrorType, rec.FirstToken)
				}
			}
		})
	}
}

// TestMeterTiming checks first-token time and output speed against the
// fake clock: the clock reads once per Write (and once in Response).
func TestMeterTiming(t *testing.T) {
	body := readFile(t, "stream_thinking.sse")
	// Write frame by frame: frames are separated by blank lines.
	var writes [][]byte
	for _, f := range bytes.SplitAfter(body, []byte("\n\n")) {
		if len(f) > 0 {
			writes = append(writes, f)
		}
	}
	c := &clock{now: t0}
	ms := NewMeters(MetersOptions{Now: c.Now, Headroom: &HeadroomTracker{}})
	rec := meter(t, ms, meterCase{resp: sseHeader()}, writes)
	// Response reads the clock at +10ms; write k (from 0) at +(20+10k) ms.
	// Frame 2 (message_start, content_block_start, then the first
	// thinking_delta) is the first content delta: +40 ms.
	if rec.FirstToken != 40*time.Millisecond {
		t.Errorf("FirstToken = %v, want 40ms", rec.FirstToken)
	}
	// 10 frames: the last write at +110 ms. 1200 tokens over 70 ms.
	if len(writes) != 10 {
		t.Fatalf("%d writes", len(writes))
	}
	if !near(rec.TokensPerSec, 1200/0.070) {
		t.Errorf("TokensPerSec = %v, want %v", rec.TokensPerSec, 1200/0.070)
	}

	// The same stream gzipped, cut in the same places: each decoded frame
	// is dated by the write that carried its last compressed byte.
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	var zwrites [][]byte
	for _, w := range writes {
		zw.Write(w)
		zw.Flush()
		zwrites = append(zwrites, bytes.Clone(zbuf.Bytes()))
		zbuf.Reset()
	}
	zw.Close()
	zwrites[len(zwrites)-1] = append(zwrites[len(zwrites)-1], zbuf.Bytes()...)
	c = &clock{now: t0}
	ms = NewMeters(MetersOptions{Now: c.Now, Headroom: &HeadroomTracker{}})
	rec = meter(t, ms, meterCase{resp: http.Header{"Content-Type": {"text/event-stream"}, "Content-Encoding": {"gzip"}}}, zwrites)
	if rec.FirstToken != 40*time.Millisecond {
		t.Errorf("gzip: FirstToken = %v, want 40ms", rec.FirstToken)
	}
	if rec.Tokens.Output != 1200 {
		t.Errorf("gzip: output %d", rec.Tokens.Output)
	}
}

func TestMeterOverCap(t *testing.T) {
	c := meterCase{resp: jsonHeader(), body: []byte(nonStreamBody)}
	ms := NewMeters(MetersOptions{MaxBody: 100})
	rec := meter(t, ms, c, splits(c.body)[50])
	if rec.PriceKnown || rec.CostUSD != 0 || rec.UsageExtras[ExtraUsageUnknown] == "" {
		t.Errorf("over the cap: known %v cost %v extras %v; want unknown usage", rec.PriceKnown, rec.CostUSD, rec.UsageExtras)
	}
}

func TestMeterUndecodableEncoding(t *testing.T) {
	c := meterCase{resp: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"br"}}, body: []byte{0x1b, 0x02, 0x03}}
	rec := meter(t, NewMeters(MetersOptions{}), c, whole(c.body))
	if rec.PriceKnown || rec.UsageExtras[ExtraUsageUnknown] == "" {
		t.Errorf("br body: known %v extras %v; want usage unknown", rec.PriceKnown, rec.UsageExtras)
	}
}

func TestMeterModelFallsBackToRequest(t *testing.T) {
	// A stream cut before message_start: no usage, the model the client asked for.
	c := meterCase{reqBody: `{"model":"claude-haiku-4-5","stream":true}`, resp: sseHeader(), body: []byte("event: ping\ndata: {}\n\n")}
	rec := meter(t, NewMeters(MetersOptions{}), c, whole(c.body))
	if rec.Model != "claude-haiku-4-5" || rec.Tokens != (storage.Tokens{}) {
		t.Errorf("model %q tokens %+v", rec.Model, rec.Tokens)
	}
}

// TestMeterBatchResultsCountedOnce downloads a batch's results again in the
// same run and after a restart on the same bbolt file: only the first
// download counts; another batch still counts, and a ledger entry older
// than any batch's results is forgotten.
func TestMeterBatchResultsCountedOnce(t *testing.T) {
	results := func(id string) meterCase {
		return meterCase{method: http.MethodGet, path: "/v1/messages/batches/" + id + "/results",
			resp: http.Header{"Content-Type": {"application/binary"}}, body: readFile(t, "batch_results.jsonl")}
	}
	counted := func(rec storage.Record) bool {
		if !rec.Batch {
			t.Fatalf("not marked batch: %+v", rec)
		}
		if rec.Tokens == (storage.Tokens{}) {
			if rec.CostUSD != 0 || rec.UsageExtras[ExtraBatchResults] != "already counted" {
				t.Fatalf("a repeated download carries %v, %v", rec.CostUSD, rec.UsageExtras)
			}
			return false
		}
		if rec.Tokens.Output != 400 || !near(rec.CostUSD, 0.007575) {
			t.Fatalf("counted %+v %v", rec.Tokens, rec.CostUSD)
		}
		return true
	}
	path := filepath.Join(t.TempDir(), "ferry.db")
	open := func() *storage.DB {
		db, err := storage.Open(path, storage.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	ms := NewMeters(MetersOptions{Settings: db})
	if !counted(meter(t, ms, results("msgbatch_07"), whole(results("").body))) {
		t.Error("first download not counted")
	}
	if counted(meter(t, ms, results("msgbatch_07"), whole(results("").body))) {
		t.Error("second download in the same run counted")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close()
	ms = NewMeters(MetersOptions{Settings: db})
	if counted(meter(t, ms, results("msgbatch_07"), whole(results("").body))) {
		t.Error("download after a restart counted again")
	}
	c8 := results("msgbatch_08")
	c8.start = t0.Add(10 * 24 * time.Hour)
	if !counted(meter(t, ms, c8, whole(c8.body))) {
		t.Error("another batch not counted")
	}

	// 36 days on, msgbatch_07's results are long gone from the API: its
	// entry is pruned at the next new batch; msgbatch_08's (26 days) stays.
	c := results("msgbatch_09")
	c.start = t0.Add(36 * 24 * time.Hour)
	if !counted(meter(t, ms, c, whole(c.body))) {
		t.Error("msgbatch_09 not counted")
	}
	var ledger map[string]time.Time
	if _, err := db.GetSetting(BatchLedgerKey, &ledger); err != nil {
		t.Fatal(err)
	}
	if _, ok := ledger["msgbatch_07"]; ok || len(ledger) != 2 {
		t.Errorf("ledger %v: want msgbatch_08 and msgbatch_09", ledger)
	}
}

func TestMeterClientFamily(t *testing.T) {
	c := meterCase{header: http.Header{"User-Agent": {"claude-cli/2.0.14 (external, cli)"}}, resp: jsonHeader(), body: []byte(nonStreamBody)}
	rec := meter(t, NewMeters(MetersOptions{}), c, whole(c.body))
	if rec.Client != ClientClaudeCLI {
		t.Errorf("Client = %q", rec.Client)
	}
}

// TestMeterNeverFailsOnGarbage: a body that is no valid stream, JSON or
// compressed data, fed a byte at a time, is accepted whole (meter checks
// every Write), reads as usage unknown rather than $0 or a made-up count,
// and does not trip the meter's panic guard (which would log).
func TestMeterNeverFailsOnGarbage(t *testing.T) {
	headers := map[string]http.Header{
		"sse": sseHeader(), "json": jsonHeader(),
		"gzip": {"Content-Encoding": {"gzip"}}, "deflate": {"Content-Encoding": {"deflate"}},
	}
	for name, h := range headers {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			ms := NewMeters(MetersOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			c := meterCase{resp: h, body: []byte("event: message_start\ndata: {\"message\":{\"usage\":{\"input_tokens\":\"x\"}}}\n\n\x00\xff garbage {{{")}
			rec := meter(t, ms, c, bytewise(c.body))
			if logs.Len() > 0 {
				t.Fatalf("the meter failed: %s", logs.String())
			}
			if rec.Tokens != (storage.Tokens{}) || rec.CostUSD != 0 || rec.PriceKnown {
				t.Errorf("garbage counted: tokens %+v, cost %v, price known %v", rec.Tokens, rec.CostUSD, rec.PriceKnown)
			}
			if rec.UsageExtras[ExtraUsageUnknown] == "" {
				t.Errorf("usage of garbage not marked unknown: extras %v", rec.UsageExtras)
			}
			if rec.Status != http.StatusOK || rec.Path != "/v1/messages" {
				t.Errorf("record fields lost: status %d, path %q", rec.Status, rec.Path)
			}
		})
	}
}

// TestMeterLongStreamHeld: the meter holds a stream's bytes and reads them
// at Done, in pieces of maxHeld for a long one; the usage and the times
// must be those of the writes, however many pieces the stream took, and
// the held bytes never grow past the bound.
func TestMeterLongStreamHeld(t *testing.T) {
	delta := `event: content_block_delta` + "\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"` + strings.Repeat("x", 1000) + `"}}` + "\n\n"
	writes := [][]byte{
		[]byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":3000,\"output_tokens\":1}}}\n\n"),
		[]byte("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"),
	}
	const deltas = 300 // about 300 KB: several pieces of maxHeld
	for range deltas {
		writes = append(writes, []byte(delta))
	}
	writes = append(writes,
		[]byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"),
		[]byte("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4500}}\n\n"),
		[]byte("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
	)
	c := &clock{now: t0}
	ms := NewMeters(MetersOptions{Now: c.Now})
	m := ms.NewObserver(httptest.NewRequest(http.MethodPost, "/v1/messages", nil), nil, t0)
	m.Response(http.StatusOK, sseHeader())
	for _, w := range writes {
		m.Write(w)
		if m.held != nil && len(m.held.b) > maxHeld {
			t.Fatalf("held %d bytes, bound %d", len(m.held.b), maxHeld)
		}
	}
	var rec storage.Record
	m.Done(&rec)
	if want := (storage.Tokens{Input: 12, CacheRead: 3000, Output: 4500}); rec.Tokens != want {
		t.Errorf("tokens %+v, want %+v", rec.Tokens, want)
	}
	// Response reads the clock at +10 ms, write k (from 0) at +(20+10k) ms:
	// the first delta is write 2.
	if rec.FirstToken != 40*time.Millisecond {
		t.Errorf("FirstToken = %v, want 40ms", rec.FirstToken)
	}
	if rec.Model != "claude-sonnet-4-5" || !rec.PriceKnown {
		t.Errorf("model %q, price known %v", rec.Model, rec.PriceKnown)
	}
}

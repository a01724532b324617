package usage

import (
	"net/http"
	"strings"
	"testing"
)

// TestMeterExactCost prices responses as the API sends them: by the model
// the response names, with the modifiers its usage reports, iteration by
// iteration when it has them.
func TestMeterExactCost(t *testing.T) {
	ms := NewMeters(MetersOptions{})
	msgPath := "/v1/messages"
	for _, tc := range []struct {
		name     string
		reqBody  string
		body     string
		stream   bool
		wantUSD  float64
		wantRow  string
		known    bool
		wantIn   int64
		wantOut  int64
		extraKey string // an extra that must be recorded
		extraHas string
	}{
		{
			name:    "a server-side fallback is priced by the model that answered",
			reqBody: `{"model":"claude-opus-4-1","max_tokens":10,"messages":[]}`,
			body:    `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"usage":{"input_tokens":1000000,"output_tokens":0}}`,
			wantUSD: 3, wantRow: "claude-sonnet-4-6", known: true, wantIn: 1_000_000,
		},
		{
			name:    "fast mode on Opus 4.6 over 200K, streamed (speed in message_start)",
			reqBody: `{"model":"claude-opus-4-6","stream":true}`,
			stream:  true,
			body: "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-opus-4-6\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":200000,\"output_tokens\":1,\"speed\":\"fast\",\"inference_geo\":\"global\"}}}\n\n" +
				"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" +
				"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":100}}\n\n" +
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			// (10×5 + 200000×0.5 + 100×25) × 12 = (50 + 100000 + 2500) × 12 = 1230600 µ$
			wantUSD: 1.2306, wantRow: "claude-opus-4-6 speed=fast×12", known: true, wantIn: 200_010, wantOut: 100,
			extraKey: "speed", extraHas: "fast",
		},
		{
			name:    "US-only inference",
			body:    `{"model":"claude-haiku-4-5-20251001","usage":{"input_tokens":1000000,"output_tokens":0,"inference_geo":"us"}}`,
			wantUSD: 1.1, wantRow: "claude-haiku-4-5 inference_geo=us×1.1", known: true, wantIn: 1_000_000,
		},
		{
			name:    "fast mode on a model without a figure is unknown",
			body:    `{"model":"claude-sonnet-4-6","usage":{"input_tokens":1000,"output_tokens":10,"speed":"fast"}}`,
			wantUSD: 0, wantRow: "claude-sonnet-4-6 speed=fast unpriced", known: false, wantIn: 1000, wantOut: 10,
		},
		{
			name: "iterations: each priced by its own model, the sum recorded",
			// Compaction by Sonnet, then the message by Opus 5; the top
			// level reports only the last iteration.
			body: `{"model":"claude-opus-5","usage":{"input_tokens":2000,"output_tokens":300,"iterations":[` +
				`{"type":"compaction","model":"claude-sonnet-4-6","input_tokens":100000,"output_tokens":5000},` +
				`{"type":"message","input_tokens":2000,"output_tokens":300}]}}`,
			// Sonnet: 100000×3 + 5000×15 = 375000; Opus 5: 2000×5 + 300×25 = 17500 → 392500 µ$
			wantUSD: 0.3925, wantRow: "claude-opus-5 + claude-sonnet-4-6", known: true, wantIn: 102_000, wantOut: 5300,
			extraKey: ExtraIterations, extraHas: "2: claude-sonnet-4-6 (compaction), claude-opus-5",
		},
		{
			name: "iterations whose speed differs: fast only where it ran fast",
			body: `{"model":"claude-opus-5","usage":{"input_tokens":2000,"output_tokens":0,"speed":"fast","iterations":[` +
				`{"type":"message","model":"claude-opus-5","input_tokens":1000,"output_tokens":0,"speed":"standard"},` +
				`{"type":"message","model":"claude-opus-5","input_tokens":1000,"output_tokens":0,"speed":"fast"}]}}`,
			// 1000×5 + 1000×5×2 = 15000 µ$
			wantUSD: 0.015, wantRow: "claude-opus-5 + claude-opus-5 speed=fast×2", known: true, wantIn: 2000,
		},
		{
			name: "iterations that fall short of the top level: the rest at the response's model",
			body: `{"model":"claude-opus-5","usage":{"input_tokens":3000,"output_tokens":100,"iterations":[` +
				`{"type":"message","model":"claude-opus-5","input_tokens":1000,"output_tokens":100}]}}`,
			// everything is Opus 5: 3000×5 + 100×25 = 17500 µ$
			wantUSD: 0.0175, wantRow: "claude-opus-5", known: true, wantIn: 3000, wantOut: 100,
			extraKey: ExtraIterationsCheck, extraHas: "exceeds the iterations by 2000 tokens",
		},
		{
			name: "an iteration by an unknown model makes the whole price unknown",
			body: `{"model":"claude-opus-5","usage":{"input_tokens":10,"output_tokens":1,"iterations":[` +
				`{"type":"message","model":"claude-mystery-9","input_tokens":10,"output_tokens":1}]}}`,
			known: false, wantIn: 10, wantOut: 1, wantRow: "unknown claude-mystery-9",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := jsonHeader()
			if tc.stream {
				resp = sseHeader()
			}
			rec := meter(t, ms, meterCase{path: msgPath, reqBody: tc.reqBody, status: 200, resp: resp, body: []byte(tc.body)}, whole([]byte(tc.body)))
			if !near(rec.CostUSD, tc.wantUSD) || rec.PriceRow != tc.wantRow || rec.PriceKnown != tc.known {
				t.Errorf("cost %.9f %q known=%v; want %.9f %q %v", rec.CostUSD, rec.PriceRow, rec.PriceKnown, tc.wantUSD, tc.wantRow, tc.known)
			}
			if rec.Tokens.Prompt() != tc.wantIn || rec.Tokens.Output != tc.wantOut {
				t.Errorf("tokens %+v, want prompt %d output %d", rec.Tokens, tc.wantIn, tc.wantOut)
			}
			if tc.extraKey != "" && !strings.Contains(rec.UsageExtras[tc.extraKey], tc.extraHas) {
				t.Errorf("extras %v: %s should hold %q", rec.UsageExtras, tc.extraKey, tc.extraHas)
			}
		})
	}
}

// TestBatchResultsPricedByIteration: batch results carry the same usage
// objects, so they are priced the same way, at the batch factor.
func TestBatchResultsPricedByIteration(t *testing.T) {
	ms := NewMeters(MetersOptions{})
	body := `{"custom_id":"a","result":{"type":"succeeded","message":{"model":"claude-opus-5","usage":{"input_tokens":1000,"output_tokens":0,"iterations":[{"type":"compaction","model":"claude-sonnet-4-6","input_tokens":1000000,"output_tokens":0},{"type":"message","input_tokens":1000,"output_tokens":0}]}}}}` + "\n"
	rec := meter(t, ms, meterCase{method: "GET", path: "/v1/messages/batches/msgbatch_it/results", status: 200,
		resp: jsonHeader(), body: []byte(body)}, whole([]byte(body)))
	// (1000000×3 + 1000×5) × 0.5 = 1502500 µ$
	if !near(rec.CostUSD, 1.5025) || !rec.PriceKnown {
		t.Errorf("batch cost %v known=%v, want 1.5025", rec.CostUSD, rec.PriceKnown)
	}
}

// TestSubscriptionBilledZero: a request with a subscription's OAuth token
// is billed $0; what it would cost with a key is kept apart.
func TestSubscriptionBilledZero(t *testing.T) {
	ms := NewMeters(MetersOptions{})
	body := []byte(`{"model":"claude-sonnet-4-6","usage":{"input_tokens":1000000,"output_tokens":0}}`)
	for _, tc := range []struct {
		name, auth    string
		billed, equiv float64
	}{
		{"OAuth token", "Bearer sk-ant-oat01-abc", 0, 3},
		{"API key as Bearer", "Bearer sk-ant-api03-abc", 3, 0},
		{"x-api-key", "", 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.auth != "" {
				h.Set("Authorization", tc.auth)
			} else {
				h.Set("X-Api-Key", "sk-ant-api03-abc")
			}
			rec := meter(t, ms, meterCase{header: h, status: 200, resp: jsonHeader(), body: body}, whole(body))
			if !near(rec.CostUSD, tc.billed) || !near(rec.APIEquivUSD, tc.equiv) || !rec.PriceKnown {
				t.Errorf("billed %v equiv %v known %v; want %v %v", rec.CostUSD, rec.APIEquivUSD, rec.PriceKnown, tc.billed, tc.equiv)
			}
			if tc.equiv > 0 && !strings.HasSuffix(rec.PriceRow, SubscriptionRow) {
				t.Errorf("price row %q", rec.PriceRow)
			}
		})
	}
}

package cache

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
)

// TestUseful: what is worth serving again (issue 10, "Stored only when
// complete and useful").
func TestUseful(t *testing.T) {
	msg := func(content, reason string) string {
		return `{"id":"msg_1","type":"message","role":"assistant","content":` + content + `,"stop_reason":"` + reason + `","usage":{"input_tokens":1,"output_tokens":1}}`
	}
	const (
		start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"type\":\"message\",\"content\":[]}}\n\n"
		text  = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
		tool = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"ls\",\"input\":{}}}\n\n"
		ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n"
		stop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
		errF = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	)
	delta := func(reason string) string {
		return "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + reason + "\"}}\n\n"
	}
	// An SSE stream whose events are named only in their data (a proxy
	// on the way stripped the event: lines).
	bare := func(s string) string {
		var kept []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "event:") {
				kept = append(kept, l)
			}
		}
		return strings.Join(kept, "\n")
	}
	json := head{Status: 200, ContentType: "application/json"}
	sse := head{Status: 200, ContentType: "text/event-stream; charset=utf-8"}
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.String()
	}
	withEnc := func(h head, enc string) head { h.ContentEncoding = enc; return h }
	withStatus := func(h head, s int) head { h.Status = s; return h }

	for _, tc := range []struct {
		name string
		k    kind
		h    head
		body string
		want bool
	}{
		{"message", kindMessages, json, msg(`[{"type":"text","text":"Hi"}]`, "end_turn"), true},
		{"message max_tokens", kindMessages, json, msg(`[{"type":"text","text":"Hi"}]`, "max_tokens"), true},
		{"message tool_use, empty input", kindMessages, json, msg(`[{"type":"tool_use","id":"t","name":"ls","input":{}}]`, "tool_use"), true},
		{"message thinking only", kindMessages, json, msg(`[{"type":"thinking","thinking":"hmm","signature":"s"}]`, "end_turn"), true},
		{"message redacted thinking", kindMessages, json, msg(`[{"type":"redacted_thinking","data":"abc"}]`, "end_turn"), true},
		{"message empty content", kindMessages, json, msg(`[]`, "end_turn"), false},
		{"message empty text", kindMessages, json, msg(`[{"type":"text","text":""}]`, "end_turn"), false},
		{"message empty thinking", kindMessages, json, msg(`[{"type":"thinking","thinking":""}]`, "end_turn"), false},
		{"message refusal", kindMessages, json, msg(`[{"type":"text","text":"No."}]`, "refusal"), false},
		{"message pause_turn", kindMessages, json, msg(`[{"type":"text","text":"Searching"}]`, "pause_turn"), false},
		{"message not a message", kindMessages, json, `{"type":"error","error":{"type":"api_error","message":"x"}}`, false},
		{"message not JSON", kindMessages, json, `{"type":"message",`, false},
		{"message 500", kindMessages, withStatus(json, 500), msg(`[{"type":"text","text":"Hi"}]`, "end_turn"), false},
		{"message 201", kindMessages, withStatus(json, 201), msg(`[{"type":"text","text":"Hi"}]`, "end_turn"), false},
		{"message gzip", kindMessages, withEnc(json, "gzip"), gz(msg(`[{"type":"text","text":"Hi"}]`, "end_turn")), true},
		{"message gzip of a refusal", kindMessages, withEnc(json, "gzip"), gz(msg(`[{"type":"text","text":"No."}]`, "refusal")), false},
		{"message gzip damaged", kindMessages, withEnc(json, "gzip"), "\x1f\x8b not gzip", false},
		{"message brotli", kindMessages, withEnc(json, "br"), msg(`[{"type":"text","text":"Hi"}]`, "end_turn"), false},
		{"message identity", kindMessages, withEnc(json, "identity"), msg(`[{"type":"text","text":"Hi"}]`, "end_turn"), true},

		{"stream", kindMessages, sse, start + ping + text + delta("end_turn") + stop, true},
		{"stream tool_use", kindMessages, sse, start + tool + delta("tool_use") + stop, true},
		{"stream without event lines", kindMessages, sse, bare(start + text + delta("end_turn") + stop), true},
		{"stream no message_stop", kindMessages, sse, start + text + delta("end_turn"), false},
		{"stream error frame", kindMessages, sse, start + text + errF + stop, false},
		{"stream refusal", kindMessages, sse, start + text + delta("refusal") + stop, false},
		{"stream pause_turn", kindMessages, sse, start + text + delta("pause_turn") + stop, false},
		{"stream no content", kindMessages, sse, start + ping + delta("end_turn") + stop, false},
		{"stream empty text block", kindMessages, sse, start + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" + delta("end_turn") + stop, false},
		{"stream 529", kindMessages, withStatus(sse, 529), start + text + delta("end_turn") + stop, false},

		{"count_tokens", kindCountTokens, json, `{"input_tokens":42}`, true},
		{"count_tokens zero", kindCountTokens, json, `{"input_tokens":0}`, true},
		{"count_tokens without the count", kindCountTokens, json, `{"type":"error"}`, false},
		{"count_tokens 400", kindCountTokens, withStatus(json, 400), `{"input_tokens":42}`, false},

		{"models", kindModels, json, `{"data":[{"type":"model","id":"claude-sonnet-4-5"}],"has_more":false}`, true},
		{"model", kindModels, json, `{"type":"model","id":"claude-sonnet-4-5"}`, true},
		{"models error body", kindModels, json, `{"type":"error","error":{"type":"not_found_error"}}`, false},
		{"models not JSON", kindModels, json, `<html>`, false},

		{"other endpoint", kindNone, json, msg(`[{"type":"text","text":"Hi"}]`, "end_turn"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := useful(tc.k, tc.h, []byte(tc.body)); got != tc.want {
				t.Fatalf("useful = %v, want %v", got, tc.want)
			}
		})
	}
}

package cache

import (
	"encoding/json"
	"net/http"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/proxy/sse"
)

// useful reports whether a complete response is worth serving again: a
// 200 whose stream reached message_stop with no error frame and whose
// message has at least one content block with content, and not a refusal
// or a pause_turn. Anything else would be served to every retry: a cached
// empty answer, a cut stream or an error is exactly what a retry is
// trying to get past.
func useful(k kind, h head, body []byte) bool {
	if h.Status != http.StatusOK {
		return false
	}
	if h.ContentEncoding == "gzip" {
		plain, err := gunzip(body)
		if err != nil {
			return false
		}
		body = plain
	} else if h.ContentEncoding != "" && h.ContentEncoding != "identity" {
		return false
	}
	switch k {
	case kindMessages:
		if h.stream() {
			return usefulStream(body)
		}
		return usefulMessage(body)
	case kindCountTokens:
		_, ok := jsonscan.Int(body, "input_tokens")
		return ok
	case kindModels:
		return json.Valid(body) && jsonscan.String(jsonscan.Field(body, "type")) != "error"
	}
	return false
}

// usefulMessage checks a non-streaming message.
func usefulMessage(body []byte) bool {
	var m struct {
		Type       string            `json:"type"`
		Content    []json.RawMessage `json:"content"`
		StopReason string            `json:"stop_reason"`
	}
	if json.Unmarshal(body, &m) != nil || m.Type != "message" || !stopOK(m.StopReason) {
		return false
	}
	for _, b := range m.Content {
		if blockHasContent(b) {
			return true
		}
	}
	return false
}

func stopOK(reason string) bool { return reason != "refusal" && reason != "pause_turn" }

// blockHasContent: a text or thinking block with text, or any other block
// (tool_use, server tool results …), which is content by being there.
func blockHasContent(b []byte) bool {
	switch jsonscan.String(jsonscan.Field(b, "type")) {
	case "text":
		return jsonscan.String(jsonscan.Field(b, "text")) != ""
	case "thinking":
		return jsonscan.String(jsonscan.Field(b, "thinking")) != ""
	case "redacted_thinking":
		return len(jsonscan.Field(b, "data")) > 2
	case "":
		return false
	}
	return true
}

// usefulStream checks an event stream: message_stop, no error frame, a
// block with content, an acceptable stop reason.
func usefulStream(body []byte) bool {
	var (
		sc               sse.Scanner
		stop, bad, found bool
	)
	sc.Feed(body, func(f sse.Frame) {
		ev := f.Event
		if ev == "" {
			ev = jsonscan.String(jsonscan.Field(f.Data, "type"))
		}
		switch ev {
		case "message_stop":
			stop = true
		case "error":
			bad = true
		case "message_delta":
			if !stopOK(jsonscan.String(jsonscan.Field(jsonscan.Field(f.Data, "delta"), "stop_reason"))) {
				bad = true
			}
		case "content_block_start":
			// A tool_use block is content by being there (its input may
			// be {}); a text block only once it has text.
			if blockHasContent(jsonscan.Field(f.Data, "content_block")) {
				found = true
			}
		case "content_block_delta":
			d := jsonscan.Field(f.Data, "delta")
			for _, field := range []string{"text", "partial_json", "thinking"} {
				if jsonscan.String(jsonscan.Field(d, field)) != "" {
					found = true
				}
			}
		}
	})
	sc.Flush(func(sse.Frame) {})
	return stop && !bad && found && sc.Skipped() == 0
}

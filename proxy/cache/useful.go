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

// usefulMessage checks a non-streaming message. It walks the answer with
// jsonscan rather than decoding it: on a miss this runs before the
// answer's end reaches its clients, and encoding/json took about 0.45 ms
// of a 50 KB answer (BenchmarkCacheMiss). Values are delimited, not
// validated: the bytes are replayed as the upstream sent them, so a hit
// is what the same call gave; the check only decides whether it is worth
// giving again.
func usefulMessage(body []byte) bool {
	var typ, content, reason []byte
	err := jsonscan.Members(body, func(key, val []byte) error {
		switch string(key) {
		case "type":
			typ = val
		case "content":
			content = val
		case "stop_reason":
			reason = val
		}
		return nil
	})
	if err != nil || jsonscan.String(typ) != "message" || !stopOK(jsonscan.String(reason)) {
		return false
	}
	found := false
	jsonscan.Elements(content, func(b []byte) bool {
		found = blockHasContent(b)
		return !found
	})
	return found
}

func stopOK(reason string) bool { return reason != "refusal" && reason != "pause_turn" }

// blockHasContent: a text or thinking block with text, or any other block
// (tool_use, server tool results …), which is content by being there.
func blockHasContent(b []byte) bool {
	var typ, text, thinking, data []byte
	if jsonscan.Members(b, func(key, val []byte) error {
		switch string(key) {
		case "type":
			typ = val
		case "text":
			text = val
		case "thinking":
			thinking = val
		case "data":
			data = val
		}
		return nil
	}) != nil {
		return false
	}
	switch jsonscan.String(typ) {
	case "text":
		return nonEmptyString(text)
	case "thinking":
		return nonEmptyString(thinking)
	case "redacted_thinking":
		return nonEmptyString(data)
	case "":
		return false
	}
	return true
}

// nonEmptyString: a raw JSON string value other than "" (its text is not
// decoded: a 50 KB answer's text would be copied only to be measured).
func nonEmptyString(raw []byte) bool { return len(raw) > 2 && raw[0] == '"' }

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

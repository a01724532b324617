package brake

import (
	"bytes"
	"encoding/json"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

// call is one tool_use with its tool_result, as found in the body: raw
// bytes, compared as JSON values only when the bytes differ.
type call struct {
	name, input, result []byte
	isError             bool
}

// same reports whether two calls are the same call with the same result:
// the same tool name, and input and result equal as JSON values (so a
// client that writes the keys of an input in another order or spacing is
// not taken for doing something else).
func (c call) same(o call) bool {
	if !bytes.Equal(c.name, o.name) || c.isError != o.isError {
		return false
	}
	return equalJSON(c.input, o.input) && equalJSON(c.result, o.result)
}

// Loop reports whether the last repeats tool calls of a Messages request
// body are the same call with the same result, and which tool. It runs on
// every Messages request, so it decodes nothing it can avoid: the body is
// delimited with jsonscan, the messages are read from the newest back,
// and it stops at the first call that differs, so a conversation that
// moves on costs it two calls' worth of scanning and, when their bytes
// differ, the decoding of two small inputs.
func Loop(body []byte, repeats int) (tool string, looping bool) {
	if repeats < 2 || !mayLoop(body, repeats) {
		return "", false
	}
	var msgs []byte
	jsonscan.TopLevel(body, func(key, val []byte) bool {
		if string(key) == "messages" {
			msgs = val
			return false
		}
		return true
	})
	if len(msgs) == 0 {
		return "", false
	}
	// Only the tail matters: each call takes an assistant message and the
	// user message with its result, so 2×repeats+1 messages hold the last
	// repeats calls (more when an assistant turn made several).
	keep := 2*repeats + 1
	tail := make([][]byte, 0, keep)
	jsonscan.Elements(msgs, func(v []byte) bool {
		if len(tail) == keep {
			copy(tail, tail[1:])
			tail = tail[:keep-1]
		}
		tail = append(tail, v)
		return true
	})
	var first call
	n := 0
	for i := len(tail) - 1; i >= 1; i -= 2 {
		userRole, userContent := roleContent(tail[i])
		asstRole, asstContent := roleContent(tail[i-1])
		if userRole != "user" || asstRole != "assistant" {
			return "", false
		}
		calls, ok := pairCalls(asstContent, userContent)
		if !ok {
			return "", false
		}
		for j := len(calls) - 1; j >= 0; j-- {
			c := calls[j]
			if n == 0 {
				first = c
			} else if !c.same(first) {
				return "", false
			}
			n++
			if n >= repeats {
				return jsonscan.String(first.name), true
			}
		}
	}
	return "", false
}

// mayLoop is the quick check that keeps the brake off the request's
// path: a loop needs the latest tool call's input at least repeats times
// in the body. Claude Code and the SDKs replay the conversation they hold,
// so a repeated input is written the same way each time; counting its
// bytes costs a few searches of the body where walking it would cost a
// scan per message (measured: 40 µs on a 31 KB conversation, most of the
// brake's cost, against about 5 µs for this).
func mayLoop(body []byte, repeats int) bool {
	i := lastIndex(body, []byte(`"tool_use"`))
	if i < 0 {
		return false
	}
	start := bytes.LastIndexByte(body[:i], '{')
	if start < 0 {
		return false
	}
	input := jsonscan.Field(body[start:], "input")
	if len(input) == 0 {
		return true // an unusual spelling: let the full check decide
	}
	return bytes.Count(body, input) >= repeats
}

// lastIndex is bytes.LastIndex by forward searches: bytes.LastIndex runs
// Rabin–Karp backwards over the whole body when the word is absent, which
// was 7 % of Ferry's CPU in the bench profile (4 KB bodies, no tools);
// bytes.Index is vectorised, and a body holds the word a few hundred times
// at most.
func lastIndex(body, word []byte) int {
	last := -1
	for off := 0; ; {
		i := bytes.Index(body[off:], word)
		if i < 0 {
			return last
		}
		last = off + i
		off = last + 1 // occurrences may overlap
	}
}

// roleContent reads a message's role and raw content.
func roleContent(msg []byte) (role string, content []byte) {
	jsonscan.TopLevel(msg, func(key, val []byte) bool {
		switch string(key) {
		case "role":
			role = jsonscan.String(val)
		case "content":
			content = val
		}
		return true
	})
	return role, content
}

// pairCalls matches an assistant turn's tool_use blocks with the user
// turn's tool_result blocks, in the assistant's order. ok is false when
// the assistant used no tool or a result is missing: the loop, if any, is
// broken there.
func pairCalls(asstContent, userContent []byte) ([]call, bool) {
	type result struct {
		id, content []byte
		isError     bool
	}
	var results []result
	jsonscan.Elements(userContent, func(b []byte) bool {
		var r result
		isResult := false
		jsonscan.TopLevel(b, func(key, val []byte) bool {
			switch string(key) {
			case "type":
				isResult = string(val) == `"tool_result"`
			case "tool_use_id":
				r.id = val
			case "content":
				r.content = val
			case "is_error":
				r.isError = string(val) == "true"
			}
			return true
		})
		if isResult {
			results = append(results, r)
		}
		return true
	})
	var calls []call
	ok := true
	jsonscan.Elements(asstContent, func(b []byte) bool {
		var c call
		var id []byte
		isUse := false
		jsonscan.TopLevel(b, func(key, val []byte) bool {
			switch string(key) {
			case "type":
				isUse = string(val) == `"tool_use"`
			case "id":
				id = val
			case "name":
				c.name = val
			case "input":
				c.input = val
			}
			return true
		})
		if !isUse {
			return true
		}
		for _, r := range results {
			if bytes.Equal(r.id, id) {
				c.result, c.isError = r.content, r.isError
				calls = append(calls, c)
				return true
			}
		}
		ok = false
		return false
	})
	return calls, ok && len(calls) > 0
}

// equalJSON compares two JSON values: equal bytes are equal; otherwise
// both are decoded (numbers kept as written) and compared as values.
func equalJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	ca, cb := canonical(a), canonical(b)
	return ca != nil && cb != nil && bytes.Equal(ca, cb)
}

// canonical is a JSON value written so that equal values are equal bytes
// (object keys sorted, whitespace gone, numbers as written); nil when it
// does not decode.
func canonical(raw []byte) []byte {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

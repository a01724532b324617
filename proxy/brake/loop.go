package brake

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

// message is what the loop check reads of one message.
type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type block struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
}

// call is one tool_use with its tool_result, as compared.
type call struct {
	tool string
	key  [32]byte // of name, canonical input, canonical result, is_error
}

// Loop reports whether the last repeats tool calls of a Messages request
// body are the same call with the same result, and which tool. It reads
// the messages from the newest back and stops at the first call that
// differs, so a conversation that moves on costs it a pair or two of
// small decodes.
func Loop(body []byte, repeats int) (tool string, looping bool) {
	if repeats < 2 || !bytes.Contains(body, []byte(`"tool_result"`)) {
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
	var tail [][]byte
	jsonscan.Elements(msgs, func(v []byte) bool {
		if len(tail) == keep {
			copy(tail, tail[1:])
			tail = tail[:keep-1]
		}
		tail = append(tail, v)
		return true
	})
	var first *call
	n := 0
	// Newest first: the last message holds the latest results.
	for i := len(tail) - 1; i >= 1; i-- {
		var user, asst message
		if json.Unmarshal(tail[i], &user) != nil || user.Role != "user" {
			continue
		}
		if json.Unmarshal(tail[i-1], &asst) != nil || asst.Role != "assistant" {
			continue
		}
		calls, ok := pairCalls(asst.Content, user.Content)
		if !ok {
			return "", false
		}
		for j := len(calls) - 1; j >= 0; j-- {
			c := calls[j]
			if first == nil {
				first = &c
			} else if c.key != first.key {
				return "", false
			}
			n++
			if n >= repeats {
				return first.tool, true
			}
		}
		i-- // the assistant message is read
	}
	return "", false
}

// pairCalls matches an assistant turn's tool_use blocks with the user
// turn's tool_result blocks. ok is false when the assistant used no tool:
// the loop, if any, is broken there.
func pairCalls(asstContent, userContent json.RawMessage) ([]call, bool) {
	var uses, results []block
	if json.Unmarshal(asstContent, &uses) != nil || json.Unmarshal(userContent, &results) != nil {
		return nil, false
	}
	byID := make(map[string]block, len(results))
	for _, r := range results {
		if r.Type == "tool_result" {
			byID[r.ToolUseID] = r
		}
	}
	var calls []call
	for _, u := range uses {
		if u.Type != "tool_use" {
			continue
		}
		r, ok := byID[u.ID]
		if !ok {
			return nil, false
		}
		h := sha256.New()
		h.Write([]byte(u.Name))
		h.Write([]byte{0})
		h.Write(canonical(u.Input))
		h.Write([]byte{0})
		h.Write(canonical(r.Content))
		if r.IsError {
			h.Write([]byte{1})
		}
		var c call
		c.tool = u.Name
		h.Sum(c.key[:0])
		calls = append(calls, c)
	}
	return calls, len(calls) > 0
}

// canonical is a JSON value written so that equal values are equal bytes
// (object keys sorted, whitespace gone, numbers as written); a value that
// does not decode is compared as its bytes.
func canonical(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}

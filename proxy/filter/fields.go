package filter

import (
	"bytes"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

// The text-bearing fields of a request body, found without decoding it.
// A field is reported as the raw content of its JSON string (between the
// quotes), as offsets into the body.

// field is one string value to scan.
type field struct {
	start, end int
	// prefix marks the first system text block after Claude Code's
	// billing block: on subscription traffic Anthropic refuses a request
	// whose Claude Code system prefix changed.
	prefix bool
}

// billingPrefix starts Claude Code's billing block (system[0]); it changes
// on every request and is never scanned or changed.
var billingPrefix = []byte(`"x-anthropic-billing-header:`)

// offset is where sub, a slice of body, starts in body. Every value the
// walk hands out is a re-slice of the body, so their capacities differ by
// exactly their distance.
func offset(body, sub []byte) int { return cap(body) - cap(sub) }

type walker struct {
	body   []byte
	fields []field
}

func (w *walker) str(val []byte, prefix bool) {
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		o := offset(w.body, val)
		w.fields = append(w.fields, field{o + 1, o + len(val) - 1, prefix})
	}
}

// members gathers an object's members by name (the few a block has), so
// a block's type can be read whatever member order the client used.
func members(val []byte, names ...string) (out [5][]byte, ok bool) {
	// An array, not a slice made to len(names): one allocation per block
	// was most of a Claude Code body's (375 for 85 KB).
	err := jsonscan.Members(val, func(key, v []byte) error {
		for i, n := range names {
			if string(key) == n && out[i] == nil {
				out[i] = v
			}
		}
		return nil
	})
	return out, err == nil
}

// requestFields lists the fields to scan in a Messages, count_tokens or
// chat.completions body, appended to buf[:0]; ok is false when the body
// is not a JSON object (it is then scanned as raw bytes).
func requestFields(body []byte, chat bool, buf []field) (fields []field, ok bool) {
	w := &walker{body: body, fields: buf[:0]}
	err := jsonscan.Members(body, func(key, val []byte) error {
		switch string(key) {
		case "system":
			if !chat {
				w.system(val)
			}
		case "messages":
			jsonscan.Elements(val, func(m []byte) bool {
				if chat {
					w.chatMessage(m)
				} else {
					mv, _ := members(m, "content")
					w.content(mv[0])
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		return nil, false
	}
	return w.fields, true
}

func (w *walker) system(val []byte) {
	if len(val) > 0 && val[0] == '"' {
		w.str(val, !bytes.HasPrefix(val, billingPrefix))
		return
	}
	first := true
	jsonscan.Elements(val, func(b []byte) bool {
		mv, _ := members(b, "type", "text")
		if typeOf(mv[0]) != "text" || mv[1] == nil {
			return true
		}
		if bytes.HasPrefix(mv[1], billingPrefix) {
			return true
		}
		w.str(mv[1], first)
		first = false
		return true
	})
}

// content is a message's content: a string or an array of blocks.
func (w *walker) content(val []byte) {
	if len(val) == 0 {
		return
	}
	if val[0] == '"' {
		w.str(val, false)
		return
	}
	jsonscan.Elements(val, func(b []byte) bool {
		w.block(b)
		return true
	})
}

// block scans one content block. Thinking blocks are signed and images
// are not text: both are left alone, like any block type unknown here.
func (w *walker) block(b []byte) {
	mv, _ := members(b, "type", "text", "content", "input", "source")
	switch typeOf(mv[0]) {
	case "text":
		w.str(mv[1], false)
	case "tool_result", "search_result":
		w.content(mv[2])
	case "tool_use", "server_tool_use", "mcp_tool_use":
		w.values(mv[3])
	case "document":
		sv, _ := members(mv[4], "type", "data", "content")
		switch typeOf(sv[0]) {
		case "text":
			w.str(sv[1], false)
		case "content":
			w.content(sv[2])
		}
	}
}

// values scans every string value in a tool call's input (the model
// writing a file, a shell command), keys left alone.
func (w *walker) values(val []byte) {
	if len(val) == 0 {
		return
	}
	switch val[0] {
	case '"':
		w.str(val, false)
	case '{':
		jsonscan.TopLevel(val, func(_, v []byte) bool { w.values(v); return true })
	case '[':
		jsonscan.Elements(val, func(v []byte) bool { w.values(v); return true })
	}
}

// chatMessage is an OpenAI-shaped message: content as a string or text
// parts, and tool calls whose arguments are a JSON string.
func (w *walker) chatMessage(m []byte) {
	mv, _ := members(m, "content", "tool_calls")
	if c := mv[0]; len(c) > 0 {
		if c[0] == '"' {
			w.str(c, false)
		} else {
			jsonscan.Elements(c, func(p []byte) bool {
				pv, _ := members(p, "type", "text")
				if typeOf(pv[0]) == "text" {
					w.str(pv[1], false)
				}
				return true
			})
		}
	}
	jsonscan.Elements(mv[1], func(tc []byte) bool {
		tv, _ := members(tc, "function")
		fv, _ := members(tv[0], "arguments")
		w.str(fv[0], false)
		return true
	})
}

// typeOf is jsonscan.String for a block's or source's type, without
// allocating for the types the walk knows: one string per block was
// most of a Claude Code body's allocations.
func typeOf(val []byte) string {
	if len(val) >= 2 && val[0] == '"' {
		switch string(val[1 : len(val)-1]) {
		case "text":
			return "text"
		case "tool_result":
			return "tool_result"
		case "search_result":
			return "search_result"
		case "tool_use":
			return "tool_use"
		case "server_tool_use":
			return "server_tool_use"
		case "mcp_tool_use":
			return "mcp_tool_use"
		case "document":
			return "document"
		case "content":
			return "content"
		}
	}
	return jsonscan.String(val)
}

package reqkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ClaudeCodeBody builds a request shaped like Claude Code's (2026): the
// billing block with the given fields first in system, a long system
// prompt, tools with JSON schemas, and a conversation with code (quotes,
// backslashes, newlines), Chinese text and tool results, about size bytes.
func ClaudeCodeBody(size int, billing string) []byte {
	type block = map[string]any
	system := []block{
		{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.40; cc_entrypoint=cli; " + billing},
		{"type": "text", "text": strings.Repeat("You are Claude Code, Anthropic's official CLI.\nFollow the user's instructions; use the tools.\n", 60),
			"cache_control": block{"type": "ephemeral"}},
	}
	var tools []block
	for i := range 24 {
		tools = append(tools, block{
			"name":        fmt.Sprintf("Tool%d", i),
			"description": strings.Repeat("Runs a thing. Use it when \"needed\".\n", 12),
			"input_schema": block{
				"type": "object", "additionalProperties": false,
				"$schema":  "http://json-schema.org/draft-07/schema#",
				"required": []string{"path", "limit"},
				"properties": block{
					"path":   block{"type": "string", "description": "The absolute path"},
					"limit":  block{"type": "number", "description": "Lines to read", "minimum": 1},
					"offset": block{"type": "integer", "description": "Line to start at"},
					"flags":  block{"type": "array", "items": block{"type": "string", "enum": []string{"a", "b", "c"}}},
				},
			},
		})
	}
	code := "func main() {\n\tfmt.Println(\"héllo, 世界\\n\")\n\tif x := `a\\b`; x != \"\" {\n\t\treturn\n\t}\n}\n"
	var messages []block
	body := func() []byte {
		b, _ := json.Marshal(block{
			"model": "claude-opus-5", "max_tokens": 32000, "stream": true,
			"system": system, "tools": tools, "messages": messages,
			"metadata": block{"user_id": "user_abc_account_def_session_0c6b3a4e"},
			"thinking": block{"type": "enabled", "budget_tokens": 31999},
		})
		return b
	}
	for i := 0; len(body()) < size; i++ {
		messages = append(messages,
			block{"role": "user", "content": []block{{"type": "text", "text": "请修复这个函数 " + code}}},
			block{"role": "assistant", "content": []block{
				{"type": "text", "text": "Reading the file."},
				{"type": "tool_use", "id": fmt.Sprintf("toolu_%04d", i), "name": "Tool1", "input": block{"path": "/src/main.go", "limit": 200}},
			}},
			block{"role": "user", "content": []block{{"type": "tool_result", "tool_use_id": fmt.Sprintf("toolu_%04d", i), "content": code + code}}},
		)
	}
	return body()
}

// ClaudeCodeWireBody is ClaudeCodeBody with its members in the order
// Claude Code writes them (JavaScript keeps insertion order: model before
// messages, role before content, type before text), not sorted as
// encoding/json writes a map: the canonicaliser must reorder nearly every
// object of it.
func ClaudeCodeWireBody(size int, billing string) []byte {
	var v any
	d := json.NewDecoder(bytes.NewReader(ClaudeCodeBody(size, billing)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	var out bytes.Buffer
	writeWire(&out, v)
	return out.Bytes()
}

// wireOrder ranks the keys Claude Code writes first; others follow sorted.
var wireOrder = map[string]int{"model": 1, "max_tokens": 2, "system": 3, "messages": 4, "tools": 5, "metadata": 6, "thinking": 7, "stream": 8,
	"role": 1, "content": 2, "type": 1, "text": 2, "id": 3, "name": 4, "input": 5, "tool_use_id": 2, "cache_control": 9,
	"description": 2, "input_schema": 3, "required": 3, "properties": 4, "additionalProperties": 5, "$schema": 6}

func writeWire(out *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			ri, rj := wireOrder[keys[i]], wireOrder[keys[j]]
			if ri == 0 {
				ri = 100
			}
			if rj == 0 {
				rj = 100
			}
			if ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			out.Write(kb)
			out.WriteByte(':')
			writeWire(out, x[k])
		}
		out.WriteByte('}')
	case []any:
		out.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				out.WriteByte(',')
			}
			writeWire(out, e)
		}
		out.WriteByte(']')
	default:
		b, _ := json.Marshal(x)
		out.Write(b)
	}
}

package reqkey

import (
	"encoding/json"
	"fmt"
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

package brake

import (
	"bytes"
	"testing"
)

// FuzzLoop: Loop reads request bodies from clients; whatever the bytes, it
// never panics, and it finds a loop only where tool results are.
func FuzzLoop(f *testing.F) {
	// Small seeds: the engine minimises each new input it finds, and a
	// long conversation makes that take most of the fuzzing time.
	f.Add([]byte(`{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"X","input":{"k":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"r"}]},{"role":"assistant","content":[{"type":"tool_use","id":"b","name":"X","input":{"k":1}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"b","content":"r"}]}]}`), uint8(2))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"X","input":{"a":[1,{"b":"\""}]}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"text","text":"x"}],"is_error":true}]}]}`), uint8(2))
	f.Add([]byte(`{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"X","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"r"}]}]}`), uint8(1))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"tool_result"`), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, repeats uint8) {
		_, loop := Loop(body, int(repeats))
		if loop && !bytes.Contains(body, []byte(`"tool_result"`)) {
			t.Fatalf("a loop without a tool result in %q", body)
		}
	})
}

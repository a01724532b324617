package proxy

import (
	"github.com/ferry-gateway/ferry/storage"

	"encoding/json"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

func TestSniffRequest(t *testing.T) {
	t.Parallel()
	big := strings.Repeat(`{"role":"user","content":"a \"quoted\" \\ word {[\"stream\": true]}"},`, 50)
	tests := []struct {
		name       string
		body       string
		needStream bool
		model      string
		stream     bool
	}{
		{"sdk order", `{"model":"claude-opus-4-5","messages":[` + big + `{}],"stream":true}`, true, "claude-opus-4-5", true},
		{"python order", `{"max_tokens":1024,"messages":[` + big + `{}],"model":"claude-haiku-4-5","stream":false,"system":"be \"brief\""}`, true, "claude-haiku-4-5", false},
		{"stream before a nested value", `{"stream":true,"model":"m","thinking":{"type":"enabled","budget_tokens":1000}}`, true, "m", true},
		{"no stream key", `{"model":"m","messages":[` + big + `{}]}`, true, "m", false},
		{"nested stream is not the request's", `{"model":"m","tools":[{"input_schema":{"properties":{"stream":true}}}]}`, true, "m", false},
		{"stream in a string is not the request's", `{"model":"m","system":"\"stream\":true"}`, true, "m", false},
		{"whitespace everywhere", " {\n \"model\" : \"m\" ,\r\n \"stream\"\t:\ttrue \n}\n ", true, "m", true},
		{"escaped model", `{"model":"cl\u0061ude","stream":true}`, true, "claude", true},
		{"backslashes before a quote", `{"system":"x\\\\","stream":true,"model":"m"}`, true, "m", true},
		{"count_tokens needs no stream", `{"messages":[` + big + `{}],"model":"m"}`, false, "m", false},
		{"not json", `model=m&stream=true`, true, "", false},
		{"empty", ``, true, "", false},
		{"array", `[{"model":"m"}]`, true, "", false},
		{"truncated", `{"model":"m","stream":tr`, true, "m", false},
		{"unterminated string", `{"model":"m`, true, "", false},
		{"stream as string", `{"model":"m","stream":"true"}`, true, "m", false},
	}
	for _, tc := range tests {
		f := sniffRequest([]byte(tc.body), tc.needStream)
		if f.model != tc.model || f.stream != tc.stream {
			t.Errorf("%s: got model %q stream %v, want %q %v", tc.name, f.model, f.stream, tc.model, tc.stream)
		}
	}
}

// FuzzSniffRequest: never panics, and agrees with encoding/json on valid
// objects.
func FuzzSniffRequest(f *testing.F) {
	for _, s := range []string{`{"model":"m","stream":true}`, `{"a":[1,{"b":"\""}],"model":"x\\","stream":false}`, `{"stream":true}`, `{`, `"`, `{"model":"\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := sniffRequest(b, true)
		// A map, not a struct: encoding/json matches struct fields
		// case-insensitively, the API does not.
		var v map[string]any
		if jsonUnmarshal(b, &v) != nil || hasDuplicateKeys(b) {
			return
		}
		want := requestFacts{}
		if s, ok := v["model"].(string); ok {
			want.model = storage.NormalizeModel(s) // bounded for records (issue 14)
		}
		if s, ok := v["stream"].(bool); ok {
			want.stream = s
		}
		if got != want {
			t.Errorf("sniff(%q) = %+v, encoding/json says %+v", b, got, want)
		}
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// hasDuplicateKeys reports top-level keys given twice (parsers differ on
// which wins).
func hasDuplicateKeys(b []byte) bool {
	seen := map[string]bool{}
	dup := false
	jsonscan.TopLevel(b, func(key, _ []byte) bool {
		if seen[string(key)] {
			dup = true
		}
		seen[string(key)] = true
		return true
	})
	return dup
}

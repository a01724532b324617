package reqkey

import (
	"strings"
	"testing"
)

func canonical(t *testing.T, doc string) (string, bool) {
	t.Helper()
	var c canon
	ok := c.document([]byte(doc))
	return string(c.out), ok
}

func TestCanonicalEquality(t *testing.T) {
	same := []struct{ name, a, b string }{
		{"key order", `{"a":1,"b":2}`, `{"b":2,"a":1}`},
		{"whitespace", `{"a":[1,2]}`, " {\n\t\"a\" : [ 1 ,\r2 ] } "},
		{"number spelling", `[1, 100, 0.5, -0, 12.5]`, `[1.0, 1e2, 5E-1, 0, 1250e-2]`},
		{"exponent sign and zeros", `[1e+02, 0.0010]`, `[100, 1e-3]`},
		{"huge exponent", `[1e99999999999999999999]`, `[10e99999999999999999998]`},
		{"escaped string", `{"a":"A\n/é😀"}`, `{"\u0061":"\u0041\u000a\/\u00e9\ud83d\ude00"}`},
		{"escape spellings", `["\u001B","\/","\u00E9","\u0009","\"\\"]`, `["\u001b","/","é","\t","\u0022\u005c"]`},
		{"last duplicate wins", `{"a":1,"b":2,"a":3}`, `{"b":2,"a":3}`},
		{"duplicate spelled differently", `{"a":1,"\u0061":2}`, `{"a":2}`},
		{"invalid UTF-8 is U+FFFD", "[\"\xff\"]", `["\ufffd"]`},
		{"lone surrogate is U+FFFD", `["\ud800"]`, "[\"\xfe\"]"},
		{"surrogate then escape", `["\ud800\u0041"]`, `["\ufffdA"]`},
		{"nested sort", `{"z":{"y":1,"x":[{"b":1,"a":2}]},"a":0}`, `{"a":0,"z":{"x":[{"a":2,"b":1}],"y":1}}`},
		{"billing block left out", `{"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1; cch=aa;"},{"type":"text","text":"You are Claude Code"}]}`,
			`{"system":[{"text":"You are Claude Code","type":"text"},{"type":"text","text":"x-anthropic-billing-header: cc_prompt_id=1234; cc_is_subagent=true","cache_control":{"type":"ephemeral"}}]}`},
		{"billing block gone entirely", `{"system":[{"type":"text","text":"x-anthropic-billing-header: a"}]}`, `{"system":[]}`},
		{"billing type escaped", `{"system":[{"type":"t\u0065xt","text":"x-anthropic-billing-header:"}]}`, `{"system":[]}`},
	}
	for _, tc := range same {
		t.Run(tc.name, func(t *testing.T) {
			a, okA := canonical(t, tc.a)
			b, okB := canonical(t, tc.b)
			if !okA || !okB {
				t.Fatalf("valid documents refused: %v %v", okA, okB)
			}
			if a != b {
				t.Fatalf("forms differ:\n%q\n%q", a, b)
			}
		})
	}
	differ := []struct{ name, a, b string }{
		{"value", `{"a":1}`, `{"a":2}`},
		{"number close", `[0.1]`, `[0.10000000000000001]`},
		{"sign", `[1]`, `[-1]`},
		{"string vs number", `["1"]`, `[1]`},
		{"key", `{"a":1}`, `{"b":1}`},
		{"array order", `[1,2]`, `[2,1]`},
		{"null vs missing", `{"a":null}`, `{}`},
		{"nesting", `[[1],2]`, `[[1,2]]`},
		{"string split", `["ab","c"]`, `["a","bc"]`},
		{"billing only at top-level system", `{"x":{"system":[{"type":"text","text":"x-anthropic-billing-header: a"}]}}`, `{"x":{"system":[]}}`},
		{"billing needs type text", `{"system":[{"type":"image","text":"x-anthropic-billing-header: a"}]}`, `{"system":[]}`},
		{"billing as prefix only", `{"system":[{"type":"text","text":"see x-anthropic-billing-header: a"}]}`, `{"system":[]}`},
		{"billing last duplicate", `{"system":[{"type":"text","text":"x-anthropic-billing-header: a","text":"hello"}]}`, `{"system":[]}`},
	}
	for _, tc := range differ {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := canonical(t, tc.a)
			b, _ := canonical(t, tc.b)
			if a == b {
				t.Fatalf("forms equal: %q", a)
			}
		})
	}
}

func TestCanonicalRefusesInvalid(t *testing.T) {
	for _, doc := range []string{
		``, ` `, `{`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
		`tru`, `nul`, `"a`, "\"a\x01\"", `"\x"`, `"\u12"`, `{} {}`, `[1] x`, `NaN`, `'a'`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	} {
		if _, ok := canonical(t, doc); ok {
			t.Errorf("%.40q accepted", doc)
		}
	}
	deep := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, ok := canonical(t, deep); !ok {
		t.Error("nesting at encoding/json's limit refused")
	}
}

package reqkey

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzCanonical checks the canonicaliser differentially against
// encoding/json with UseNumber: it accepts exactly the documents
// encoding/json accepts; two documents get the same form exactly when
// they decode to equal values (numbers by exact value, the billing block
// left out); and a document re-encoded by encoding/json (keys sorted,
// other escapes) keeps its form.
func FuzzCanonical(f *testing.F) {
	seeds := [][2]string{
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`},
		{`[1, 100, 0.5, -0]`, `[1.0, 1e2, 5E-1, 0]`},
		{`{"a":"A\n/é"}`, `{"\u0061":"\u0041\u000a\/\u00e9"}`},
		{`{"a":1,"a":3}`, `{"a":3}`},
		{"[\"\xff\"]", `["\ud800"]`},
		{`["\ud83d\ude00"]`, `["😀"]`},
		{`{"system":[{"type":"text","text":"x-anthropic-billing-header: cch=1;"},"x"]}`, `{"system":["x"]}`},
		{`{"model":"claude-opus-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}`, `{"messages":[{"content":"hi","role":"user"}],"model":"claude-opus-5","max_tokens":1.024e3}`},
		{`[0.1]`, `[0.10000000000000001]`},
		{`{"a":[]}`, `{"a":{}}`},
		{"{\"a\":\"\x01\"}", `1e`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var ca, cb canon
		okA := ca.document(a)
		if okA != json.Valid(a) {
			t.Fatalf("accepted %v, encoding/json valid %v: %q", okA, !okA, a)
		}
		okB := cb.document(b)
		if okB != json.Valid(b) {
			t.Fatalf("accepted %v, encoding/json valid %v: %q", okB, !okB, b)
		}
		if !okA {
			return
		}
		// Re-encoded by encoding/json: same value, same form.
		var raw any
		d := json.NewDecoder(bytes.NewReader(a))
		d.UseNumber()
		if err := d.Decode(&raw); err != nil {
			t.Fatalf("decode: %v", err)
		}
		re, err := json.Marshal(raw)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var cr canon
		if !cr.document(re) || !bytes.Equal(cr.out, ca.out) {
			t.Fatalf("re-encoded document changed its form:\n%q\n%q", a, re)
		}
		if !okB {
			return
		}
		va, _ := oracleDecode(a)
		vb, _ := oracleDecode(b)
		eq, comparable := oracleEqual(va, vb)
		if !comparable {
			return
		}
		if got := bytes.Equal(ca.out, cb.out); got != eq {
			t.Fatalf("same form %v, encoding/json equal %v:\n%q\n%q", got, eq, a, b)
		}
	})
}

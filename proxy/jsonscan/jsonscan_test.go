package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestTopLevelAndField(t *testing.T) {
	body := []byte(`{"id":"msg_1","content":[{"type":"text","text":"a \"}\" b {["}],"model":"claude-sonnet-4-5",` +
		` "stop_reason" : "end_turn","usage":{"input_tokens":25,"cache_creation":{"ephemeral_5m_input_tokens":3}},"n":-12}`)
	var keys []string
	TopLevel(body, func(key, _ []byte) bool { keys = append(keys, string(key)); return true })
	if got := strings.Join(keys, ","); got != "id,content,model,stop_reason,usage,n" {
		t.Fatalf("keys %q", got)
	}
	for _, tc := range []struct{ name, want string }{
		{"model", `"claude-sonnet-4-5"`},
		{"usage", `{"input_tokens":25,"cache_creation":{"ephemeral_5m_input_tokens":3}}`},
		{"stop_reason", `"end_turn"`},
		{"missing", ``},
	} {
		if got := string(Field(body, tc.name)); got != tc.want {
			t.Errorf("Field(%s) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := String(Field(body, "model")); got != "claude-sonnet-4-5" {
		t.Errorf("String = %q", got)
	}
	if n, ok := Int(body, "n"); !ok || n != -12 {
		t.Errorf("Int = %d, %v", n, ok)
	}
	if got := String([]byte(`"caf\u00e9 \"x\""`)); got != `café "x"` {
		t.Errorf("escaped String = %q", got)
	}
}

func TestMalformedStopsQuietly(t *testing.T) {
	for _, b := range []string{``, `[1,2]`, `{"a":`, `{"a":1,`, `{"a" 1}`, `{"a":"unterminated}`, `{"a":{"b":[}}`} {
		n := 0
		TopLevel([]byte(b), func(_, _ []byte) bool { n++; return true })
		TailMembers([]byte(b), func(_, _ []byte) bool { n++; return true })
		_ = Field([]byte(b), "a")
		if n > 1 {
			t.Errorf("%q: %d members from a malformed body", b, n)
		}
	}
}

func TestTailMembersReadsScalarsFromTheEnd(t *testing.T) {
	body := []byte(`{"messages":[{"role":"user"}],"model":"claude-opus-4-5","stream":true}`)
	var got []string
	TailMembers(body, func(key, val []byte) bool { got = append(got, string(key)+"="+string(val)); return true })
	if strings.Join(got, " ") != `stream=true model="claude-opus-4-5"` {
		t.Fatalf("got %q", got)
	}
}

func TestMembers(t *testing.T) {
	stop := errors.New("stop")
	for _, tc := range []struct {
		name, in string
		keys     string // the members seen
		err      error
	}{
		{"empty", `{}`, "", nil},
		{"spaced", " {\n \"a\" : 1 ,\t\"b\":{\"c\":[1,{}]} }\r\n", "a,b", nil},
		{"fn stops", `{"a":1,"stop":2,"c":3}`, "a,stop", stop},
		{"truncated after a member", `{"a":1,"b":2`, "a,b", ErrMalformed},
		{"truncated value", `{"a":1,"b":`, "a", ErrMalformed},
		{"trailing comma", `{"a":1,}`, "a", ErrMalformed},
		{"comma only", `{,}`, "", ErrMalformed},
		{"missing colon", `{"a" 1}`, "", ErrMalformed},
		{"bytes after the object", `{"a":1} x`, "a", ErrMalformed},
		{"second object", `{"a":1}{}`, "a", ErrMalformed},
		{"not an object", `[1]`, "", ErrMalformed},
		{"null", `null`, "", ErrMalformed},
		{"nothing", ``, "", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keys []string
			err := Members([]byte(tc.in), func(key, _ []byte) error {
				keys = append(keys, string(key))
				if string(key) == "stop" {
					return stop
				}
				return nil
			})
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if got := strings.Join(keys, ","); got != tc.keys {
				t.Errorf("keys %q, want %q", got, tc.keys)
			}
		})
	}
}

func TestElements(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`[]`, nil, true},
		{` [ 1 , "a,]" , {"x":[1,2]} , [3] ] `, []string{`1`, `"a,]"`, `{"x":[1,2]}`, `[3]`}, true},
		{`[1,]`, []string{`1`}, false},
		{`[1 2]`, []string{`1`}, false},
		{`{"a":1}`, nil, false},
		{`["unterminated]`, nil, false},
	}
	for _, c := range cases {
		var got []string
		ok := Elements([]byte(c.in), func(v []byte) bool { got = append(got, string(v)); return true })
		if ok != c.ok || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: got %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzSkipString checks the string skipper against encoding/json: in a
// valid object, every member value it delimits is valid JSON on its own.
func FuzzSkipString(f *testing.F) {
	f.Add(`{"a":"x\\\"y","b":"\\\\","c":"` + strings.Repeat(`ab\"cd\\n`, 10) + `"}`)
	f.Add(`{"a":"\\\\\\\"","b":["\"",{"c":"\\"}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(doc), &obj) != nil {
			return
		}
		err := Members([]byte(doc), func(k, v []byte) error {
			if !json.Valid(v) {
				t.Fatalf("%q: member %q delimited as %q", doc, k, v)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
	})
}

package filter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func compileOne(t testing.TB, l List) *Set {
	t.Helper()
	l.Enabled = true
	s, err := Compile([]List{l}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keywords(name string, words ...string) List {
	l := List{Name: name, Enabled: true}
	for _, w := range words {
		l.Entries = append(l.Entries, Entry{Pattern: w, Scope: ScopeBoth})
	}
	return l
}

func TestKeywordsChineseAndFullWidth(t *testing.T) {
	s := compileOne(t, keywords("words", "机密项目", "Project Falcon", "ＡＢＣ公司"))
	cases := []struct{ text, want string }{
		{"这是机密项目的资料", "这是[FILTERED:words-1:" + hash4(s, "机密项目") + "]的资料"},
		{"about PROJECT FALCON now", "about [FILTERED:words-2:" + hash4(s, "PROJECT FALCON") + "] now"},
		// Full-width letters match their half-width keyword and back.
		{"ｐｒｏｊｅｃｔ ｆａｌｃｏｎ!", "[FILTERED:words-2:" + hash4(s, "ｐｒｏｊｅｃｔ ｆａｌｃｏｎ") + "]!"},
		{"abc公司发布", "[FILTERED:words-3:" + hash4(s, "abc公司") + "]发布"},
		{"无关的文本", "无关的文本"},
	}
	for _, c := range cases {
		out, _ := s.Apply(Request, []byte(c.text))
		if string(out) != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.text, out, c.want)
		}
	}
}

func hash4(s *Set, v string) string {
	p := s.Placeholder("x", []byte(v))
	return p[len(p)-5 : len(p)-1]
}

func TestKeywordCombiningMarks(t *testing.T) {
	// "café" typed with a combining accent still matches the keyword
	// written precomposed, and the whole accented letter is replaced.
	s := compileOne(t, keywords("w", "café"))
	text := "le cafe\u0301 noir"
	ms := s.Scan(Request, []byte(text))
	if len(ms) != 1 || text[ms[0].Start:ms[0].End] != "cafe\u0301" {
		t.Fatalf("matches %+v", ms)
	}
}

// TestACMatchesNaive checks the Aho–Corasick matcher against strings.Index
// over random small alphabets, where overlaps and shared suffixes abound.
func TestACMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var pats []string
		for range 1 + rng.IntN(20) {
			n := 1 + rng.IntN(5)
			var b strings.Builder
			for range n {
				b.WriteByte("abc"[rng.IntN(3)])
			}
			pats = append(pats, b.String())
		}
		var tb strings.Builder
		for range rng.IntN(200) {
			tb.WriteByte("abcd"[rng.IntN(4)])
		}
		text := tb.String()
		m := newACMatcher(pats)
		got := map[string]int{}
		m.find([]byte(text), func(id, s, e int) {
			if text[s:e] != pats[id] {
				t.Fatalf("round %d: reported %q at %d for %q", round, text[s:e], s, pats[id])
			}
			got[fmt.Sprint(id, s)]++
		})
		want := 0
		for id, p := range pats {
			for i := 0; i+len(p) <= len(text); i++ {
				if text[i:i+len(p)] == p {
					want++
					if got[fmt.Sprint(id, i)] != 1 {
						t.Fatalf("round %d: %q at %d found %d times", round, p, i, got[fmt.Sprint(id, i)])
					}
				}
			}
		}
		total := 0
		for _, n := range got {
			total += n
		}
		if total != want {
			t.Fatalf("round %d: %d matches, want %d", round, total, want)
		}
	}
}

func TestModesAndScopes(t *testing.T) {
	l := List{Name: "l", Enabled: true, Entries: []Entry{
		{Pattern: "alpha", Action: Block},
		{Pattern: "beta", Scope: ScopeResponse},
		{Pattern: `g[a]mma`, Regex: true, Scope: ScopeBoth, Action: Flag},
	}}
	s := compileOne(t, l)
	text := []byte("alpha beta gamma")
	if got := rules(s, Request, text); got != "l-1:block l-3:flag" {
		t.Errorf("request: %s", got)
	}
	if got := rules(s, Response, text); got != "l-2:redact l-3:flag" {
		t.Errorf("response: %s", got)
	}
	l.RequestMode, l.ResponseMode = Flag, Off
	s = compileOne(t, l)
	if got := rules(s, Request, text); got != "l-1:flag l-3:flag" {
		t.Errorf("request mode flag: %s", got)
	}
	if s.Active(Response) {
		t.Errorf("response mode off: still active")
	}
}

func rules(s *Set, sd Side, text []byte) string {
	var out []string
	for _, m := range s.Scan(sd, text) {
		r := s.Rule(sd, m)
		out = append(out, fmt.Sprintf("%s:%s", r.Name, r.Action))
	}
	return strings.Join(out, " ")
}

func TestValidate(t *testing.T) {
	bad := []Entry{
		{Pattern: ""},
		{Pattern: "(unclosed", Regex: true},
		{Pattern: "a*", Regex: true},
		{Pattern: "x", Action: "delete"},
		{Pattern: "x", Scope: "sideways"},
		{Pattern: "x", MaxLen: MaxMaxLen + 1},
		{Pattern: strings.Repeat("x", MaxPatternLen+1)},
		{Pattern: "\xff"},
	}
	for _, e := range bad {
		if err := e.Validate(); err == nil {
			t.Errorf("%+v accepted", e)
		}
	}
	e := Entry{Pattern: "(unclosed", Regex: true}
	if err := e.Validate(); !strings.Contains(err.Error(), "missing closing )") {
		t.Errorf("RE2's error not shown: %v", err)
	}
	if err := ValidName("bad name"); err == nil {
		t.Errorf("list name with a space accepted")
	}
}

func TestAllowlist(t *testing.T) {
	l := keywords("w", "internal")
	l.Entries[0].Allow = []string{"INTERNAL"}
	s := compileOne(t, l)
	if out, _ := s.Apply(Request, []byte("INTERNAL and internal")); !bytes.HasPrefix(out, []byte("INTERNAL and [FILTERED:")) {
		t.Fatalf("%s", out)
	}
}

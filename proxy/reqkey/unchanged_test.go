package reqkey

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A change to the canonicaliser that makes it faster must not change a
// key: a new key for the same request empties everyone's cache at the
// upgrade and, worse, two versions of the rule would disagree on what is
// the same request. TestKeysUnchanged compares the keys of a fixed corpus
// with the keys the first version (ferry-reqkey-1) gave it, kept in
// testdata/keys-v1.txt; FuzzStrUnchanged compares the string scanner,
// where the speed work goes, with a frozen copy of the first version.

var updateKeys = flag.Bool("update-keys", false, "rewrite testdata/keys-v1.txt (only with the first version's code)")

const keysFile = "testdata/keys-v1.txt"

// keyCorpus is deterministic: Claude Code-shaped bodies and random
// documents from a seeded generator, valid and not.
func keyCorpus() [][]byte {
	var docs [][]byte
	for _, size := range []int{200, 4_000, 85_000} {
		for _, billing := range []string{"cch=1a2b3;", "cch=ffff0; cc_prev_req=req_011CV; cc_prompt_id=0c6b3a4e;"} {
			docs = append(docs, ClaudeCodeBody(size, billing), ClaudeCodeWireBody(size, billing))
		}
	}
	rng := rand.New(rand.NewPCG(10, 2026))
	for range 3000 {
		var sb strings.Builder
		randomValue(rng, &sb, 0)
		docs = append(docs, []byte(sb.String()))
	}
	return docs
}

// pieces of strings: canonical and other spellings, multi-byte UTF-8,
// invalid bytes, lone and paired surrogates, control bytes (invalid in a
// string), and text long enough to fill whole words.
var strPieces = []string{
	"a", "hello world ", "The quick brown fox jumps over the lazy dog. ", "func main() {", "x",
	`\n`, `\t`, `\"`, `\\`, `\r`, `\b`, `\f`, `\/`, `\u0041`, `\u00e9`, `\u00E9`, `\u001f`, `\u001F`, `\u0000`, `\u000a`, `\u0008`,
	`\ud83d\ude00`, `\ud800`, `\udc00x`, `\ud83d\u0041`, `\uD83D\uDE00`, `\u12`, `\x`, `\`,
	"é", "世界", "你好，", "😀", "🧑‍💻", "\u2028", "\xef\xbf\xbd",
	"\xff", "\xc3", "\xe4\xb8", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\x80",
	"\x01", "\x1f", "\x7f", "\n", "\"",
	"x-anthropic-billing-header: cch=1;",
}

func randomString(rng *rand.Rand, sb *strings.Builder) {
	sb.WriteByte('"')
	for range rng.IntN(12) {
		sb.WriteString(strPieces[rng.IntN(len(strPieces))])
		if rng.IntN(4) == 0 {
			sb.WriteString(strings.Repeat("abcdefgh", rng.IntN(5)))
		}
	}
	sb.WriteByte('"')
}

var numPieces = []string{"0", "-0", "1", "1.0", "10e-1", "0.1E1", "123456789012345678901234567890", "1e400", "-2.50", "3e-5", "01", "1.", "-", "1e+2", "0.000"}

func randomValue(rng *rand.Rand, sb *strings.Builder, depth int) {
	n := 6
	if depth > 4 {
		n = 4
	}
	switch rng.IntN(n) {
	case 0, 1:
		randomString(rng, sb)
	case 2:
		sb.WriteString(numPieces[rng.IntN(len(numPieces))])
	case 3:
		sb.WriteString([]string{"true", "false", "null", "nul", " true "}[rng.IntN(5)])
	case 4:
		sb.WriteByte('[')
		for k := range rng.IntN(5) {
			if k > 0 {
				sb.WriteString([]string{",", " , ", ",\n"}[rng.IntN(3)])
			}
			randomValue(rng, sb, depth+1)
		}
		sb.WriteByte(']')
	case 5:
		sb.WriteByte('{')
		keys := []string{`"a"`, `"b"`, `"system"`, `"type"`, `"text"`, `"\u0061"`, `"é"`, `"role"`, `"content"`, `"a"`}
		for k := range rng.IntN(6) {
			if k > 0 {
				sb.WriteByte(',')
			}
			if rng.IntN(3) == 0 {
				randomString(rng, sb)
			} else {
				sb.WriteString(keys[rng.IntN(len(keys))])
			}
			sb.WriteString([]string{":", " : "}[rng.IntN(2)])
			randomValue(rng, sb, depth+1)
		}
		sb.WriteByte('}')
	}
}

func corpusKeys(t *testing.T) []string {
	k, err := New([]byte("per-install-secret-for-the-golden-keys"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i, doc := range keyCorpus() {
		keys = append(keys, k.Key(Request{Method: "POST", Path: "/v1/messages", RawQuery: "beta=true", Body: doc,
			Version: "2023-06-01", Betas: []string{"b-2025,a-2025"}, FilterVersion: fmt.Sprint(i % 3), Credential: "sk-ant-api03-golden"}))
	}
	return keys
}

func TestKeysUnchanged(t *testing.T) {
	keys := corpusKeys(t)
	if *updateKeys {
		if err := os.MkdirAll(filepath.Dir(keysFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keysFile, []byte(strings.Join(keys, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(keysFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want = append(want, sc.Text())
	}
	if len(want) != len(keys) {
		t.Fatalf("%d golden keys, %d computed", len(want), len(keys))
	}
	docs := keyCorpus()
	bad := 0
	for i := range keys {
		if keys[i] != want[i] {
			if bad++; bad <= 5 {
				t.Errorf("document %d changed its key: %.200q", i, docs[i])
			}
		}
	}
	// The corpus must exercise both domains and the billing block.
	valid := 0
	var c canon
	for _, d := range docs {
		c.out = c.out[:0]
		if c.document(d) {
			valid++
		}
	}
	t.Logf("%d of %d valid", valid, len(docs))
	if valid < len(docs)/5 || valid > len(docs)*4/5 {
		t.Errorf("%d of %d corpus documents valid: the corpus should mix both", valid, len(docs))
	}
}

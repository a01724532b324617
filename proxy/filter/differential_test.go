package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// The fast paths against the oracle (the code before them, in
// oracle_*_test.go): the same matches in the same order, the same bodies,
// frames and hits.

type acHit struct{ id, start, end int }

func acHits(find func([]byte, func(id, start, end int)), text []byte) []acHit {
	var out []acHit
	find(text, func(id, s, e int) { out = append(out, acHit{id, s, e}) })
	return out
}

// TestACSkipMatchesOracle: the skip over bytes where no pattern starts
// reports exactly what the plain walk did, in the same order, for the
// dense table and the sparse trie, with one-byte patterns among them.
func TestACSkipMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rounds := 3000
	if testing.Short() || raceOn {
		rounds = 300
	}
	for round := range rounds {
		alpha := "abcdefgh=:/"[:2+rng.IntN(9)]
		var pats []string
		sparse := round%10 == 0
		if sparse {
			alpha = "abcdefghijklmnopqrstuvwxyz=:/"
		}
		np := 1 + rng.IntN(12)
		if sparse {
			np = 1200 // over dfaMaxStates nodes: the sparse trie
		}
		for range np {
			n := 1 + rng.IntN(6)
			if sparse {
				n = 4 + rng.IntN(8)
			}
			var b strings.Builder
			for range n {
				b.WriteByte(alpha[rng.IntN(len(alpha))])
			}
			pats = append(pats, b.String())
		}
		var tb []byte
		for range rng.IntN(300) {
			if rng.IntN(4) == 0 {
				tb = append(tb, "xyz. \n"[rng.IntN(6)])
			} else {
				tb = append(tb, alpha[rng.IntN(len(alpha))])
			}
		}
		m := newACMatcher(pats)
		if sparse != (m.dfa == nil) {
			t.Fatalf("round %d: sparse %v but dfa %v", round, sparse, m.dfa != nil)
		}
		got, want := acHits(m.find, tb), acHits(func(b []byte, fn func(id, s, e int)) { oldFind(m, b, fn) }, tb)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: pats %q text %q:\n got %v\nwant %v", round, pats, tb, got, want)
		}
	}
}

// TestACSkipSecrets: the built-in anchors over request-shaped text.
func TestACSkipSecrets(t *testing.T) {
	s := defaultSet(t, "")
	total := 0
	for _, body := range [][]byte{benchBody(4096), ccBodyOf(40_000), []byte(proseStream()), []byte(tPEM + tJWT + tGitHub + " x=AKIA" + tAWSSecret)} {
		for sd := range s.sides {
			m := s.sides[sd].anchors
			got, want := acHits(m.find, body), acHits(func(b []byte, fn func(id, s, e int)) { oldFind(m, b, fn) }, body)
			total += len(want)
			if !slices.Equal(got, want) {
				t.Fatalf("side %d: got %d hits, want %d (%v)", sd, len(got), len(want), fmt.Sprint(want[:min(5, len(want))]))
			}
		}
	}
	if total == 0 {
		t.Fatal("no anchor in the texts: the test tests nothing")
	}
}

// diffSets are the response-side configurations the stream is compared
// under: the default (flag), answers redacted, answers blocked, and a
// keyword and a plain regex beside the built-in list.
func diffSets(tb testing.TB) map[string]*Set {
	sets := map[string]*Set{}
	for _, m := range []Action{Flag, Redact, Block} {
		sets[string(m)] = defaultSet(tb, m)
	}
	words := keywords("words", "机密项目", "Project Falcon")
	words.Entries = append(words.Entries, Entry{Pattern: `\bACME-[0-9]{6}\b`, Regex: true, Scope: ScopeBoth, MaxLen: 32})
	s, err := Compile([]List{func() List { l := DefaultSecrets(); l.ResponseMode = Redact; return l }(), words}, testKey)
	if err != nil {
		tb.Fatal(err)
	}
	sets["words"] = s
	return sets
}

// streamRun is one filter's whole output, its hits and its end.
type streamRun struct {
	out     string
	reads   []int // what each Read returned: when text was let go
	hits    []Hit
	blocked *Blocked
	err     error
}

func runBoth(s *Set, in []byte, seed uint64) (got, want streamRun) {
	run := func(old bool) streamRun {
		var r streamRun
		src := &chunked{bytes.Clone(in), rand.New(rand.NewPCG(seed, 9))}
		var out []byte
		readAll := func(rd io.Reader) {
			p := make([]byte, 1<<20)
			for {
				n, err := rd.Read(p)
				out = append(out, p[:n]...)
				r.reads = append(r.reads, n)
				if err != nil {
					if err != io.EOF {
						r.err = err
					}
					return
				}
			}
		}
		if old {
			f := newOldStreamFilter(s, src, func(h Hit) { r.hits = append(r.hits, h) })
			readAll(f)
			f.Close()
			r.blocked = f.Blocked
		} else {
			f := s.NewStreamFilter(src, func(h Hit) { r.hits = append(r.hits, h) })
			readAll(f)
			f.Close()
			r.blocked = f.Blocked
		}
		r.out = string(out)
		return r
	}
	return run(false), run(true)
}

func sameRun(a, b streamRun) bool {
	if (a.blocked == nil) != (b.blocked == nil) || a.blocked != nil && *a.blocked != *b.blocked {
		return false
	}
	return a.out == b.out && slices.Equal(a.reads, b.reads) && slices.Equal(a.hits, b.hits) && fmt.Sprint(a.err) == fmt.Sprint(b.err)
}

// secretish are pieces of answer text: prose, secrets of several kinds,
// escapes, non-ASCII and invalid UTF-8, keywords.
var secretish = []string{
	"Here is the plan. ", "token := r.Header.Get(\"Authorization\")\n", "GITHUB_TOKEN=" + tGitHub + "\n",
	"DB_PASSWORD=hunter2hunter2\n", "MAX_TOKENS=4096\n", tJWT, tPEM, "aws_secret_access_key = " + tAWSSecret + "\n",
	"AKIAZ3MHLQ4UX5NQKV7G " + tAWSSecret, "postgres://admin:s3cretpass@db.internal:5432/app ", "é ü 机密项目 ", "ｐｒｏｊｅｃｔ ｆａｌｃｏｎ",
	"ACME-123456 ", "API_TOKEN=\n", "x=\n", "\"quoted\" \\ back", "\x00\x1f ctl", "bad \xff\xfe utf8 ", "\U0001F600 emoji ", "Project Falcon. ",
}

// frameVariants render a content_block_delta's data in ways a client
// or a relay might, most of which the fast path must hand to
// encoding/json.
func deltaData(rng *rand.Rand, index int, typ, field, text string) string {
	js := jsonString(text)
	if rng.IntN(8) == 0 { // escape non-ASCII and some ASCII too
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range text {
			switch {
			case r == '"' || r == '\\':
				b.WriteString(`\` + string(r))
			case r < 0x20 || r > 0x7e || rng.IntN(10) == 0:
				if r > 0xffff {
					r1, r2 := utf16.EncodeRune(r)
					fmt.Fprintf(&b, `\u%04x\u%04X`, r1, r2)
				} else {
					fmt.Fprintf(&b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		js = b.String()
	}
	if rng.IntN(20) == 0 {
		js = `"` + text + `"` // raw bytes, maybe invalid JSON
	}
	idx := strconv.Itoa(index)
	keys := map[string]string{"index": "index", "delta": "delta", "type": "type", "field": field}
	switch rng.IntN(40) {
	case 0:
		keys["index"] = "Index"
	case 1:
		keys["delta"] = "DELTA"
	case 2:
		keys["type"] = "Type"
	case 3:
		keys["field"] = strings.ToUpper(field)
	case 4:
		keys["index"] = `\u0069ndex`
	case 5:
		keys["index"] = "ındex" // dotless i: json folds it to I
	case 6:
		idx = strconv.Itoa(index) + ".0"
	case 7:
		idx = "1e0"
	case 8:
		idx = `"` + idx + `"`
	case 9:
		idx = "null"
	case 10:
		idx = "-0"
	case 11:
		idx = "99999999999999999999"
	case 12:
		js = "null"
	case 13:
		js = "42"
	case 14:
		typ = `text\u005fdelta`
	case 15:
		return `[1,2]`
	case 16:
		return `{"type":"content_block_delta","index":` + idx + `,"delta":null}`
	case 17:
		return `{"type":"content_block_delta","index":` + idx + `,"delta":{"type":"` + typ + `","` + field + `":` + js + `}` // truncated
	case 18:
		return ` {"type":"content_block_delta" , "index" : ` + idx + ` , "delta" : {"type" : "` + typ + `" , "` + field + `" : ` + js + ` } } `
	case 19:
		return `{"type":"content_block_delta","index":` + idx + `,"delta":{"type":"` + typ + `","` + field + `":` + js + `,"` + field + `":null}}`
	case 20:
		return `{"type":"content_block_delta","index":` + idx + `,"delta":{"type":"` + typ + `","` + field + `":"first"},"delta":{"` + field + `":` + js + `}}`
	case 21:
		return `{"type":"content_block_delta","index":` + idx + `,"index":` + strconv.Itoa(index+1) + `,"delta":{"type":"` + typ + `","` + field + `":` + js + `}}`
	case 22:
		return `{"type":"content_block_delta","index":` + idx + `,"delta":{"type":"` + typ + `","` + field + `":` + js + `,"extra":{"a":[1,true,false,null,-1.5e+3,"x"]}}}`
	case 23:
		idx = "01"
	}
	return `{"type":"content_block_delta","` + keys["index"] + `":` + idx + `,"` + keys["delta"] + `":{"` + keys["type"] + `":"` + typ + `","` + keys["field"] + `":` + js + `}}`
}

func startData(rng *rand.Rand, index int, typ string) string {
	idx := strconv.Itoa(index)
	switch rng.IntN(30) {
	case 0:
		return `{"type":"content_block_start","Index":` + idx + `,"content_block":{"type":"` + typ + `"}}`
	case 1:
		return `{"type":"content_block_start","index":` + idx + `,"Content_Block":{"type":"` + typ + `"}}`
	case 2:
		return `{"type":"content_block_start","index":` + idx + `,"content_block":{"TYPE":"` + typ + `"}}`
	case 3:
		return `{"type":"content_block_start","index":` + idx + `,"content_block":null}`
	case 4:
		return `{"type":"content_block_start","index":` + idx + `,"content_block":{"type":"` + typ + `"}` // truncated
	case 5:
		return `{"type":"content_block_start","index":"` + idx + `","content_block":{"type":"` + typ + `"}}`
	case 6:
		return `{"type":"content_block_start","index":` + idx + `,"content_block":{"type":"t\u0065xt"}}`
	case 7:
		return `{"type":"content_block_start","index":` + idx + `,"content_block":{"type":"` + typ + `","type":null}}`
	}
	return `{"type":"content_block_start","index":` + idx + `,"content_block":{"type":"` + typ + `","id":"toolu_1","name":"Write","input":{}}}`
}

func stopData(rng *rand.Rand, index int) string {
	idx := strconv.Itoa(index)
	switch rng.IntN(20) {
	case 0:
		return `{"type":"content_block_stop","INDEX":` + idx + `}`
	case 1:
		return `{"type":"content_block_stop","index":` + idx // truncated
	case 2:
		return `{"type":"content_block_stop","index":null}`
	case 3:
		return `{"type":"content_block_stop","index":` + idx + `.5}`
	}
	return `{"type":"content_block_stop","index":` + idx + `}`
}

// randomAnswer is a streamed answer of a few blocks of random kinds,
// their text split at random, their frames written in random ways.
func randomAnswer(rng *rand.Rand) []byte { return randomAnswerOf(rng, false) }

// longCode is text past the hold-back (8 KiB): the window is cut and the
// anchors tracked across cuts.
var longCode = strings.Repeat("\tkey := sha256.Sum256([]byte(token)) // x == y\n\tif n := len(b); n > 0 {\n\t\treturn\n\t}\n", 8)

func randomAnswerOf(rng *rand.Rand, long bool) []byte {
	var b strings.Builder
	frame := func(ev, data string) { fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", ev, data) }
	frame("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}`)
	for bi := range 1 + rng.IntN(3) {
		typ := []string{"text", "text", "tool_use", "thinking", "server_tool_use", "redacted_thinking"}[rng.IntN(6)]
		frame("content_block_start", startData(rng, bi, typ))
		var text string
		for range 1 + rng.IntN(8) {
			text += secretish[rng.IntN(len(secretish))]
		}
		for long && len(text) < 9000+rng.IntN(20000) {
			if rng.IntN(3) == 0 {
				text += secretish[rng.IntN(len(secretish))]
			} else {
				text += longCode[:rng.IntN(len(longCode))]
			}
		}
		dtyp, field := "text_delta", "text"
		switch typ {
		case "tool_use", "server_tool_use":
			dtyp, field = "input_json_delta", "partial_json"
			text = `{"file_path":".env","content":` + jsonString(text) + `}`
		case "thinking":
			dtyp, field = "thinking_delta", "thinking"
		}
		if rng.IntN(10) == 0 {
			dtyp = []string{"text_delta", "input_json_delta", "citations_delta"}[rng.IntN(3)]
		}
		for len(text) > 0 {
			n := min(len(text), 1+rng.IntN(40))
			if long {
				n = min(len(text), 1+rng.IntN(400))
			}
			idx := bi
			if rng.IntN(30) == 0 {
				idx = bi + 5 // no such block
			}
			frame("content_block_delta", deltaData(rng, idx, dtyp, field, text[:n]))
			if rng.IntN(10) == 0 {
				frame("ping", `{"type": "ping"}`)
			}
			text = text[n:]
		}
		if rng.IntN(12) != 0 { // now and then a block is never stopped
			frame("content_block_stop", stopData(rng, bi))
		}
	}
	frame("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}`)
	frame("message_stop", `{"type":"message_stop"}`)
	return []byte(b.String())
}

// TestStreamFilterMatchesOracle: random answers through the current
// stream filter and the oracle, under every configuration, chunked at
// random: the same bytes out, the same hits, the same block.
func TestStreamFilterMatchesOracle(t *testing.T) {
	sets := diffSets(t)
	names := slices.Sorted(maps.Keys(sets))
	rng := rand.New(rand.NewPCG(7, 8))
	rounds := 1000
	if testing.Short() || raceOn {
		rounds = 150
	}
	changed, blocked, hit, longHit := 0, 0, 0, 0
	for round := range rounds {
		long := round%15 == 0
		in := randomAnswerOf(rng, long)
		for _, name := range names {
			got, want := runBoth(sets[name], in, uint64(round))
			if !sameRun(got, want) {
				t.Fatalf("round %d, set %s: input\n%s\n got %+v\nwant %+v", round, name, in, got, want)
			}
			if want.out != string(in) {
				changed++
			}
			if want.blocked != nil {
				blocked++
			}
			if len(want.hits) > 0 {
				hit++
				if long && name == "flag" {
					longHit++
				}
			}
		}
	}
	// The oracle must have had something to do, or this tests nothing.
	if changed == 0 || blocked == 0 || hit == 0 || longHit == 0 {
		t.Fatalf("changed %d, blocked %d, hit %d, long answers flagged %d: the random answers exercise too little", changed, blocked, hit, longHit)
	}
	t.Logf("changed %d, blocked %d, hit %d, long answers flagged %d", changed, blocked, hit, longHit)
}

// FuzzStreamFilter: any bytes at all, as an upstream might send them.
func FuzzStreamFilter(f *testing.F) {
	f.Add([]byte(fakeStream), uint8(0))
	f.Add([]byte(proseStream()), uint8(1))
	f.Add([]byte(answer([]string{"token " + tGitHub[:10], tGitHub[10:] + " done"}, []string{`{"a":"` + tJWT[:9], tJWT[9:] + `"}`})), uint8(2))
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		f.Add(randomAnswer(rng), uint8(rng.IntN(4)))
	}
	sets := diffSets(f)
	names := slices.Sorted(maps.Keys(sets))
	f.Fuzz(func(t *testing.T, in []byte, which uint8) {
		s := sets[names[int(which)%len(names)]]
		got, want := runBoth(s, in, uint64(which))
		if !sameRun(got, want) {
			t.Fatalf("input %q:\n got %+v\nwant %+v", in, got, want)
		}
	})
}

// validJSON is json.Valid by the fast path's validator (validValue), for
// the fuzz below; false where unsure (nesting deeper than 64).
func validJSON(b []byte) bool {
	i := skipSpace(b, 0)
	i = validValue(b, i, 0)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// FuzzValidJSON: the fast path's validator never accepts what
// encoding/json rejects, and accepts what it accepts up to its depth.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2.5e-3,-0,true,false,null,"\u00e9\n"]}`, `01`, `1.`, `"\x"`, "\"\x01\"", `[1,]`, ` {"a" : { } } `, `-`, `1e+`, `"\ud800"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := validJSON(b), json.Valid(b)
		if got && !want {
			t.Fatalf("validJSON accepts %q, json.Valid does not", b)
		}
		if want && !got && len(b) < 60 {
			t.Fatalf("validJSON rejects %q, json.Valid accepts it", b)
		}
	})
}

// randomText is answer or request text: pieces of prose, code, secrets,
// escapes-to-be and non-ASCII.
func randomText(rng *rand.Rand) string {
	var s string
	for range 1 + rng.IntN(6) {
		s += secretish[rng.IntN(len(secretish))]
	}
	return s
}

// jsonValue encodes s as a JSON string, now and then with every
// non-ASCII and some ASCII characters escaped, or raw (maybe invalid).
func jsonValue(rng *rand.Rand, s string) string {
	switch rng.IntN(12) {
	case 0:
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range s {
			switch {
			case r == '"' || r == '\\':
				b.WriteString(`\` + string(r))
			case r == '/' && rng.IntN(2) == 0:
				b.WriteString(`\/`)
			case r < 0x20 || r > 0x7e || rng.IntN(8) == 0:
				if r > 0xffff {
					r1, r2 := utf16.EncodeRune(r)
					fmt.Fprintf(&b, `\u%04x\u%04X`, r1, r2)
				} else {
					fmt.Fprintf(&b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		return b.String()
	case 1:
		return `"` + s + `"`
	}
	return jsonString(s)
}

// randomRequest is a Messages (or chat.completions) body with text in
// every kind of field, the billing block, thinking, images.
func randomRequest(rng *rand.Rand, chat bool) []byte {
	tv := func() string { return jsonValue(rng, randomText(rng)) }
	var msgs []string
	for range 1 + rng.IntN(5) {
		if chat {
			switch rng.IntN(3) {
			case 0:
				msgs = append(msgs, `{"role":"user","content":`+tv()+`}`)
			case 1:
				msgs = append(msgs, `{"role":"user","content":[{"type":"text","text":`+tv()+`},{"type":"image_url","image_url":{"url":"data:x"}}]}`)
			default:
				msgs = append(msgs, `{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":`+jsonValue(rng, `{"a":`+jsonString(randomText(rng))+`}`)+`}}]}`)
			}
			continue
		}
		var blocks []string
		for range 1 + rng.IntN(4) {
			switch rng.IntN(7) {
			case 0:
				blocks = append(blocks, `{"type":"text","text":`+tv()+`}`)
			case 1:
				blocks = append(blocks, `{"text":`+tv()+`,"type":"text","cache_control":{"type":"ephemeral"}}`)
			case 2:
				blocks = append(blocks, `{"type":"tool_result","tool_use_id":"t","content":`+tv()+`}`)
			case 3:
				blocks = append(blocks, `{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":`+tv()+`}]}`)
			case 4:
				blocks = append(blocks, `{"type":"tool_use","id":"t","name":"Write","input":{"file_path":".env","content":`+tv()+`,"n":[1,`+tv()+`]}}`)
			case 5:
				blocks = append(blocks, `{"type":"thinking","thinking":`+tv()+`,"signature":"EqQB"}`)
			default:
				blocks = append(blocks, `{"type":"document","source":{"type":"text","media_type":"text/plain","data":`+tv()+`}}`)
			}
		}
		content := `[` + strings.Join(blocks, ",") + `]`
		if rng.IntN(4) == 0 {
			content = tv()
		}
		msgs = append(msgs, `{"role":"user","content":`+content+`}`)
	}
	system := `[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.3; cch=AKIAKA74ZTJ2WYUHVAUV;"},{"type":"text","text":` + tv() + `},{"type":"text","text":` + tv() + `}]`
	if rng.IntN(3) == 0 {
		system = tv()
	}
	body := `{"model":"m","max_tokens":9,"system":` + system + `,"messages":[` + strings.Join(msgs, ",") + `]}`
	if chat {
		body = `{"model":"m","messages":[` + strings.Join(msgs, ",") + `]}`
	}
	if rng.IntN(15) == 0 {
		body = body[:rng.IntN(len(body))] // not JSON: scanned as raw bytes
	}
	return []byte(body)
}

func sameResult(a, b RequestResult) bool {
	return bytes.Equal(a.Body, b.Body) && slices.Equal(a.Hits, b.Hits) && a.Raw == b.Raw &&
		(a.Blocked == nil) == (b.Blocked == nil) && (a.Blocked == nil || *a.Blocked == *b.Blocked)
}

// TestRequestMatchesOracle: random request bodies and whole answers
// through the current request filter and the oracle, under every
// configuration, on and off subscriptions.
func TestRequestMatchesOracle(t *testing.T) {
	sets := diffSets(t)
	l := DefaultSecrets()
	l.RequestMode = Block
	blockSet, err := Compile([]List{l}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	sets["request-block"] = blockSet
	names := slices.Sorted(maps.Keys(sets))
	rng := rand.New(rand.NewPCG(11, 12))
	rounds := 1000
	if testing.Short() || raceOn {
		rounds = 150
	}
	redacted := 0
	for round := range rounds {
		chat := rng.IntN(4) == 0
		path := "/v1/messages"
		if chat {
			path = "/v1/chat/completions"
		}
		body := randomRequest(rng, chat)
		sub := rng.IntN(3) == 0
		for _, name := range names {
			s := sets[name]
			got, want := s.FilterRequest(path, body, sub), oldFilterRequest(s, path, body, sub)
			if !sameResult(got, want) {
				t.Fatalf("round %d, set %s, %s, subscription %v: body\n%s\n got %+v\nwant %+v", round, name, path, sub, body, got, want)
			}
			if !bytes.Equal(want.Body, body) {
				redacted++
			}
			ans := []byte(`{"id":"m","type":"message","content":[{"type":"text","text":` + jsonValue(rng, randomText(rng)) + `},{"type":"tool_use","id":"t","name":"W","input":{"c":` + jsonValue(rng, randomText(rng)) + `}}]}`)
			if got, want := s.FilterAnswer(ans), oldFilterAnswer(s, ans); !sameResult(got, want) {
				t.Fatalf("round %d, set %s: answer\n%s\n got %+v\nwant %+v", round, name, ans, got, want)
			}
		}
	}
	if redacted == 0 {
		t.Fatal("nothing redacted: the random bodies exercise too little")
	}
}

// FuzzFilterRequestMatchesOracle: any body at all.
func FuzzFilterRequestMatchesOracle(f *testing.F) {
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range 20 {
		f.Add(randomRequest(rng, i%4 == 0), uint8(i))
	}
	f.Add([]byte(ccBody(envFile)), uint8(0))
	sets := diffSets(f)
	names := slices.Sorted(maps.Keys(sets))
	f.Fuzz(func(t *testing.T, body []byte, which uint8) {
		s := sets[names[int(which)%len(names)]]
		path := []string{"/v1/messages", "/v1/chat/completions"}[which>>7]
		sub := which&64 != 0
		if got, want := s.FilterRequest(path, body, sub), oldFilterRequest(s, path, body, sub); !sameResult(got, want) {
			t.Fatalf("body %q:\n got %+v\nwant %+v", body, got, want)
		}
		if got, want := s.FilterAnswer(body), oldFilterAnswer(s, body); !sameResult(got, want) {
			t.Fatalf("answer %q:\n got %+v\nwant %+v", body, got, want)
		}
	})
}

package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferry-gateway/ferry/proxy/sse"
)

// answer builds an SSE answer: a thinking block, a text block whose text
// comes in the given pieces, and a tool_use block whose input comes in
// the given fragments.
func answer(text []string, input []string) string {
	var b strings.Builder
	frame := func(ev, data string) { fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", ev, data) }
	frame("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-6","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}`)
	frame("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`)
	frame("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"the key is `+tGitHub+`"}}`)
	frame("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}`)
	frame("content_block_stop", `{"type":"content_block_stop","index":0}`)
	frame("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`)
	frame("ping", `{"type": "ping"}`)
	for _, t := range text {
		frame("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":`+jsonString(t)+`}}`)
	}
	frame("content_block_stop", `{"type":"content_block_stop","index":1}`)
	if input != nil {
		frame("content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"Write","input":{}}}`)
		for _, p := range input {
			frame("content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":`+jsonString(p)+`}}`)
		}
		frame("content_block_stop", `{"type":"content_block_stop","index":2}`)
	}
	frame("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`)
	frame("message_stop", `{"type":"message_stop"}`)
	return b.String()
}

// chunked reads its data in pieces of random sizes, as a network does.
type chunked struct {
	data []byte
	rng  *rand.Rand
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.rng.IntN(64))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}
func (c *chunked) Close() error { return nil }

func runStream(t *testing.T, s *Set, in string, seed uint64) (string, []Hit, *StreamFilter) {
	t.Helper()
	var hits []Hit
	f := s.NewStreamFilter(&chunked{[]byte(in), rand.New(rand.NewPCG(seed, 9))}, func(h Hit) { hits = append(hits, h) })
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return string(out), hits, f
}

// texts returns each block's concatenated delta text (or partial JSON),
// checking every frame's data is JSON.
func texts(t *testing.T, stream string) map[int]string {
	t.Helper()
	out := map[int]string{}
	var sc sse.Scanner
	sc.Feed([]byte(stream), func(fr sse.Frame) {
		var v struct {
			Index int `json:"index"`
			Delta struct {
				Text        string `json:"text"`
				PartialJSON string `json:"partial_json"`
				Thinking    string `json:"thinking"`
			} `json:"delta"`
		}
		if err := json.Unmarshal(fr.Data, &v); err != nil {
			t.Fatalf("frame data not JSON: %q", fr.Raw)
		}
		if fr.Event == "content_block_delta" {
			out[v.Index] += v.Delta.Text + v.Delta.PartialJSON + v.Delta.Thinking
		}
	})
	return out
}

func redactingAnswers(t testing.TB) *Set {
	l := DefaultSecrets()
	l.ResponseMode = Redact
	s, err := Compile([]List{l}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStreamSplitEverywhere splits a secret across two frames at every
// position, and the whole text into frames of every size.
func TestStreamSplitEverywhere(t *testing.T) {
	s := redactingAnswers(t)
	text := "Your token is " + tGitHub + ", keep it safe."
	want := strings.Replace(text, tGitHub, s.Placeholder("github-token", []byte(tGitHub)), 1)
	at := strings.Index(text, tGitHub)
	for k := at; k <= at+len(tGitHub); k++ {
		in := answer([]string{text[:k], text[k:]}, nil)
		out, hits, _ := runStream(t, s, in, uint64(k))
		if got := texts(t, out)[1]; got != want {
			t.Fatalf("split at %d:\n got %q\nwant %q", k, got, want)
		}
		if len(hits) != 1 || hits[0].Rule != "github-token" || hits[0].Count != 1 || hits[0].Side != "response" {
			t.Fatalf("split at %d: hits %+v", k, hits)
		}
		if !strings.Contains(out, "the key is "+tGitHub) {
			t.Fatalf("thinking block changed")
		}
	}
	for size := 1; size <= 16; size++ {
		var pieces []string
		for i := 0; i < len(text); i += size {
			pieces = append(pieces, text[i:min(len(text), i+size)])
		}
		out, _, _ := runStream(t, s, answer(pieces, nil), uint64(size))
		if got := texts(t, out)[1]; got != want {
			t.Fatalf("frames of %d bytes:\n got %q\nwant %q", size, got, want)
		}
	}
}

// TestStreamUnchangedFramesByteForByte: an answer with nothing to redact
// comes out exactly as it went in, held or not.
func TestStreamUnchangedFramesByteForByte(t *testing.T) {
	in := answer([]string{"Hello", ", world. ", "MAX_TOKENS=4096"}, []string{`{"path":"a.go",`, `"content":"package a"}`})
	for name, s := range map[string]*Set{"redacting": redactingAnswers(t), "flagging": secretsSet(t)} {
		if out, hits, _ := runStream(t, s, in, 1); out != in || hits != nil {
			t.Errorf("%s: changed or hit %v", name, hits)
		}
	}
}

// TestStreamFlagOnly: the default (answers flagged) passes every byte and
// still records the hit, even when the secret is split.
func TestStreamFlagOnly(t *testing.T) {
	s := secretsSet(t)
	in := answer([]string{"token " + tGitHub[:10], tGitHub[10:] + " done"}, nil)
	out, hits, _ := runStream(t, s, in, 3)
	if out != in {
		t.Fatal("flag changed bytes")
	}
	if len(hits) != 1 || hits[0].Action != Flag {
		t.Fatalf("hits %+v", hits)
	}
}

func TestStreamToolInput(t *testing.T) {
	s := redactingAnswers(t)
	input := `{"file_path":".env","content":"GITHUB_TOKEN=` + tGitHub + `\nPORT=1"}`
	for k := 1; k < len(input); k += 7 {
		out, _, _ := runStream(t, s, answer([]string{"Writing."}, []string{input[:k], input[k:]}), uint64(k))
		got := texts(t, out)[2]
		want := strings.Replace(input, tGitHub, s.Placeholder("github-token", []byte(tGitHub)), 1)
		if got != want {
			t.Fatalf("split at %d:\n got %s\nwant %s", k, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Fatalf("tool input no longer JSON: %s", got)
		}
	}
}

func TestStreamBlock(t *testing.T) {
	l := keywords("banned", "机密项目")
	l.Entries[0].Action = Block
	l.Entries[0].Scope = ScopeResponse
	s := compileOne(t, l)
	in := answer([]string{"关于机", "密项目的细节如下"}, nil)
	out, hits, f := runStream(t, s, in, 5)
	if f.Blocked == nil || strings.Contains(out, "机密项目") || strings.Contains(out, "密项目") {
		t.Fatalf("not blocked:\n%s", out)
	}
	if !strings.HasSuffix(out, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"+
		"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":"+jsonString(f.Blocked.Answer())+"}}\n\n") {
		t.Fatalf("stream does not end with the block closed and an error frame:\n%s", out)
	}
	if len(hits) != 1 || hits[0].Action != Block {
		t.Fatalf("hits %+v", hits)
	}
}

func TestFilterAnswerWhole(t *testing.T) {
	s := redactingAnswers(t)
	body := `{"id":"msg_1","type":"message","role":"assistant","content":[` +
		`{"type":"thinking","thinking":"` + tGitHub + `","signature":"x"},` +
		`{"type":"text","text":"use ` + tGitHub + `"},` +
		`{"type":"tool_use","id":"t","name":"Write","input":{"content":"` + tStripe + `"}}],"usage":{"input_tokens":1,"output_tokens":2}}`
	res := s.FilterAnswer([]byte(body))
	want := strings.Replace(body, `"use `+tGitHub, `"use `+s.Placeholder("github-token", []byte(tGitHub)), 1)
	want = strings.Replace(want, tStripe, s.Placeholder("stripe-key", []byte(tStripe)), 1)
	if string(res.Body) != want {
		t.Fatalf("\n got %s\nwant %s", res.Body, want)
	}
	if !bytes.Contains(res.Body, []byte(`"thinking":"`+tGitHub)) {
		t.Fatal("thinking changed")
	}
}

// FuzzStream: however the answer's text is cut into frames, the text the
// client gets is the whole text filtered at once, and every frame stays
// JSON.
func FuzzStream(f *testing.F) {
	f.Add("Your token is "+tGitHub+", keep it safe. 机密 and SECRET.", uint64(1))
	f.Add("DB_PASSWORD=hunter2hunter2\n"+tAKIA+" "+tAWSSecret, uint64(2))
	f.Add("ｓｅｃｒｅｔ secretsecret", uint64(3))
	l := keywords("k", "secret", "机密")
	l.Entries[0].Scope, l.Entries[1].Scope = ScopeBoth, ScopeBoth
	sec := DefaultSecrets()
	sec.ResponseMode = Redact
	s, err := Compile([]List{sec, l}, testKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string, seed uint64) {
		text = strings.ToValidUTF8(text, "?") // a delta's text is decoded JSON
		rng := rand.New(rand.NewPCG(seed, 1))
		var pieces []string
		// A delta's text is a JSON string: whole characters.
		for rest := text; rest != ""; {
			n := min(len(rest), 1+rng.IntN(12))
			for n < len(rest) && !utf8.RuneStart(rest[n]) {
				n++
			}
			pieces = append(pieces, rest[:n])
			rest = rest[n:]
		}
		out, _, _ := runStream(t, s, answer(pieces, nil), seed)
		want, _ := s.Apply(Response, []byte(text))
		if got := texts(t, out)[1]; got != string(want) {
			t.Fatalf("text %q in %d pieces:\n got %q\nwant %q", text, len(pieces), got, want)
		}
	})
}

// TestStreamHoldBackIsShort: with the secrets list redacting answers,
// plain prose goes out a few hundred bytes behind the model, not 8 KiB
// (the PEM and JWT entries' maximum) behind: only an anchor of a long
// rule in sight (here "-----BEGIN ") holds text back that far.
func TestStreamHoldBackIsShort(t *testing.T) {
	s := redactingAnswers(t)
	stop := "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}"
	// fed gives the filter everything up to the block's stop (the model
	// is still writing) and returns what it has let go so far.
	fed := func(in string) string {
		f := s.NewStreamFilter(io.NopCloser(strings.NewReader("")), nil)
		f.sc.Feed([]byte(in[:strings.Index(in, stop)]), f.frame)
		return f.out.String()
	}
	line := "This is an ordinary sentence of the answer, nothing secret.\n"
	pieces := make([]string, 100)
	for i := range pieces {
		pieces[i] = line
	}
	in := answer(pieces, nil)
	out := fed(in)
	if n := strings.Count(out, "text_delta"); n < 90 || !strings.HasPrefix(in, out) {
		t.Fatalf("%d of 100 deltas let go before the block ended", n)
	}
	pem := answer([]string{"key:\n-----BEGIN PRIVATE KEY-----\n", strings.Repeat("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", 20), "and more prose after it"}, nil)
	if out := fed(pem); strings.Contains(out, "BEGIN") || strings.Contains(out, "more prose") {
		t.Fatalf("text after a PEM header let go before its end:\n%s", out)
	}
}

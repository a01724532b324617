package filter

import (
	"fmt"
	"slices"
	"strings"
)

// Hit is what a rule did to one request or answer: never the matched text.
type Hit struct {
	List   string `json:"list"`
	Entry  int    `json:"entry"` // 1-based
	Rule   string `json:"rule"`
	Action Action `json:"action"`
	Count  int    `json:"count"`
	Side   string `json:"side,omitempty"` // "response" for hits in an answer
}

// Blocked says why a request or answer was blocked.
type Blocked struct {
	Rule Rule
	// Prefix: a redact rule matched Claude Code's system prompt on a
	// subscription, where changing it is refused by Anthropic.
	Prefix bool
}

// Error is the message of a block, naming the list and the entry, never
// the text, and saying how to get the text out of the conversation.
func (b *Blocked) Error() string {
	why := "matched"
	if b.Prefix {
		why = "matched Claude Code's system prompt, which a subscription request may not change, so it blocks instead of redacting"
	}
	return fmt.Sprintf("Ferry blocked this request: entry %d (%s) of filter list %q %s. The request was not sent. "+
		"The text stays in your conversation and will be blocked again on every later turn until it is removed "+
		"(in Claude Code: /rewind to before it, or /clear).", b.Rule.Entry, b.Rule.Name, b.Rule.List, why)
}

// RequestResult is what FilterRequest made of a body.
type RequestResult struct {
	// Body is what goes upstream: the body itself (the same slice) when
	// nothing was redacted.
	Body    []byte
	Hits    []Hit
	Blocked *Blocked // non-nil: refuse the request
	Raw     bool     // the body was not a JSON object and was scanned as bytes
}

// Request paths whose bodies are scanned. Batches and file uploads are
// streamed (up to hundreds of MB) and are not.
func scannedPath(path string) (ok, chat bool) {
	switch strings.TrimSuffix(path, "/") {
	case "/v1/messages", "/v1/messages/count_tokens":
		return true, false
	case "/v1/chat/completions":
		return true, true
	}
	return false, false
}

// ScansPath reports whether requests to path have their bodies scanned.
func ScansPath(path string) bool {
	ok, _ := scannedPath(path)
	return ok
}

type edit struct {
	start, end int
	repl       string
}

// FilterRequest scans the text-bearing fields of a request body and
// redacts, blocks or flags what the request side's rules match.
// subscription is set for Claude subscription (OAuth) traffic.
//
// The body is never re-serialised: each match's raw, escaped bytes are
// cut out of its JSON string and the placeholder (plain ASCII, nothing to
// escape) put in their place, so every other byte stays as the client
// sent it and thinking-block signatures stay valid.
func (s *Set) FilterRequest(path string, body []byte, subscription bool) RequestResult {
	res := RequestResult{Body: body}
	ok, chat := scannedPath(path)
	if !ok || !s.Active(Request) || len(body) == 0 {
		return res
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	fields, isJSON := requestFields(body, chat, sc.fields)
	if !isJSON {
		fields, res.Raw = append(fields[:0], field{0, len(body), false}), true
	}
	sc.fields = fields
	return s.apply(Request, body, fields, subscription, res, sc)
}

// apply scans fields of body on side sd and makes the redactions.
func (s *Set) apply(sd Side, body []byte, fields []field, subscription bool, res RequestResult, sc *scratch) RequestResult {
	var edits []edit
	counts := map[int]*Hit{}
	j := jstr{buf: sc.text} // the decoded text of strings with escapes
	defer func() { sc.text = j.buf }()
	for _, f := range fields {
		raw := body[f.start:f.end]
		if res.Raw {
			j.text, j.src, j.esc = raw, raw, false
		} else {
			j.decode(raw)
		}
		for _, m := range s.scan(sd, j.text, sc) {
			r := s.Rule(sd, m)
			act := r.Action
			if act == Redact && f.prefix && subscription {
				act = Block
				if res.Blocked == nil {
					res.Blocked = &Blocked{Rule: r, Prefix: true}
				}
			}
			h := counts[m.Rule]
			if h == nil {
				h = &Hit{List: r.List, Entry: r.Entry, Rule: r.Name, Action: act}
				if sd == Response {
					h.Side = Response.String()
				}
				counts[m.Rule] = h
			}
			h.Count++
			if act == Block {
				h.Action = Block
			}
			switch act {
			case Block:
				if res.Blocked == nil {
					res.Blocked = &Blocked{Rule: r}
				}
			case Redact:
				a, b := j.span(m.Start, m.End)
				edits = append(edits, edit{f.start + a, f.start + b, s.Placeholder(r.Name, j.text[m.Start:m.End])})
			}
		}
	}
	res.Hits = sortedHits(counts)
	if res.Blocked != nil || len(edits) == 0 {
		return res
	}
	out := make([]byte, 0, len(body)+len(edits)*32)
	last := 0
	for _, e := range edits {
		out = append(out, body[last:e.start]...)
		out = append(out, e.repl...)
		last = e.end
	}
	res.Body = append(out, body[last:]...)
	return res
}

func sortedHits(counts map[int]*Hit) []Hit {
	if len(counts) == 0 {
		return nil
	}
	out := make([]Hit, 0, len(counts))
	for _, h := range counts {
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b Hit) int {
		if c := strings.Compare(a.List, b.List); c != 0 {
			return c
		}
		return a.Entry - b.Entry
	})
	return out
}

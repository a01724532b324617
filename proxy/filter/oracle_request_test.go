package filter

// The request side's scan as it was before the fast paths (commit
// ccb4007), kept verbatim as the oracle the differential tests and the
// before/after benchmarks compare the current one with.

import (
	"bytes"
	"slices"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

// oldFilterRequest scans the text-bearing fields of a request body and
// redacts, blocks or flags what the request side's rules match.
// subscription is set for Claude subscription (OAuth) traffic.
//
// The body is never re-serialised: each match's raw, escaped bytes are
// cut out of its JSON string and the placeholder (plain ASCII, nothing to
// escape) put in their place, so every other byte stays as the client
// sent it and thinking-block signatures stay valid.
func oldFilterRequest(s *Set, path string, body []byte, subscription bool) RequestResult {
	res := RequestResult{Body: body}
	ok, chat := scannedPath(path)
	if !ok || !s.Active(Request) || len(body) == 0 {
		return res
	}
	fields, isJSON := oldRequestFields(body, chat)
	if !isJSON {
		fields, res.Raw = []field{{0, len(body), false}}, true
	}
	return oldApply(s, Request, body, fields, subscription, res)
}

// apply scans fields of body on side sd and makes the redactions.
func oldApply(s *Set, sd Side, body []byte, fields []field, subscription bool, res RequestResult) RequestResult {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	var edits []edit
	counts := map[int]*Hit{}
	var j jstr
	for _, f := range fields {
		raw := body[f.start:f.end]
		if res.Raw {
			j.text, j.src, j.esc = raw, raw, false
		} else {
			j.decode(raw)
		}
		for _, m := range oldScan(s, sd, j.text, sc) {
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

type oldWalker struct {
	body   []byte
	fields []field
}

func (w *oldWalker) str(val []byte, prefix bool) {
	if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
		o := offset(w.body, val)
		w.fields = append(w.fields, field{o + 1, o + len(val) - 1, prefix})
	}
}

// members gathers an object's members by name (the few a block has), so
// a block's type can be read whatever member order the client used.
func oldMembers(val []byte, names ...string) ([][]byte, bool) {
	out := make([][]byte, len(names))
	err := jsonscan.Members(val, func(key, v []byte) error {
		for i, n := range names {
			if string(key) == n && out[i] == nil {
				out[i] = v
			}
		}
		return nil
	})
	return out, err == nil
}

// oldRequestFields lists the fields to scan in a Messages, count_tokens or
// chat.completions body; ok is false when the body is not a JSON object
// (it is then scanned as raw bytes).
func oldRequestFields(body []byte, chat bool) (fields []field, ok bool) {
	w := &oldWalker{body: body}
	err := jsonscan.Members(body, func(key, val []byte) error {
		switch string(key) {
		case "system":
			if !chat {
				w.system(val)
			}
		case "messages":
			jsonscan.Elements(val, func(m []byte) bool {
				if chat {
					w.chatMessage(m)
				} else {
					mv, _ := oldMembers(m, "content")
					w.content(mv[0])
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		return nil, false
	}
	return w.fields, true
}

func (w *oldWalker) system(val []byte) {
	if len(val) > 0 && val[0] == '"' {
		w.str(val, !bytes.HasPrefix(val, billingPrefix))
		return
	}
	first := true
	jsonscan.Elements(val, func(b []byte) bool {
		mv, _ := oldMembers(b, "type", "text")
		if jsonscan.String(mv[0]) != "text" || mv[1] == nil {
			return true
		}
		if bytes.HasPrefix(mv[1], billingPrefix) {
			return true
		}
		w.str(mv[1], first)
		first = false
		return true
	})
}

// content is a message's content: a string or an array of blocks.
func (w *oldWalker) content(val []byte) {
	if len(val) == 0 {
		return
	}
	if val[0] == '"' {
		w.str(val, false)
		return
	}
	jsonscan.Elements(val, func(b []byte) bool {
		w.block(b)
		return true
	})
}

// block scans one content block. Thinking blocks are signed and images
// are not text: both are left alone, like any block type unknown here.
func (w *oldWalker) block(b []byte) {
	mv, _ := oldMembers(b, "type", "text", "content", "input", "source")
	switch jsonscan.String(mv[0]) {
	case "text":
		w.str(mv[1], false)
	case "tool_result", "search_result":
		w.content(mv[2])
	case "tool_use", "server_tool_use", "mcp_tool_use":
		w.values(mv[3])
	case "document":
		sv, _ := oldMembers(mv[4], "type", "data", "content")
		switch jsonscan.String(sv[0]) {
		case "text":
			w.str(sv[1], false)
		case "content":
			w.content(sv[2])
		}
	}
}

// values scans every string value in a tool call's input (the model
// writing a file, a shell command), keys left alone.
func (w *oldWalker) values(val []byte) {
	if len(val) == 0 {
		return
	}
	switch val[0] {
	case '"':
		w.str(val, false)
	case '{':
		jsonscan.TopLevel(val, func(_, v []byte) bool { w.values(v); return true })
	case '[':
		jsonscan.Elements(val, func(v []byte) bool { w.values(v); return true })
	}
}

// chatMessage is an OpenAI-shaped message: content as a string or text
// parts, and tool calls whose arguments are a JSON string.
func (w *oldWalker) chatMessage(m []byte) {
	mv, _ := oldMembers(m, "content", "tool_calls")
	if c := mv[0]; len(c) > 0 {
		if c[0] == '"' {
			w.str(c, false)
		} else {
			jsonscan.Elements(c, func(p []byte) bool {
				pv, _ := oldMembers(p, "type", "text")
				if jsonscan.String(pv[0]) == "text" {
					w.str(pv[1], false)
				}
				return true
			})
		}
	}
	jsonscan.Elements(mv[1], func(tc []byte) bool {
		tv, _ := oldMembers(tc, "function")
		fv, _ := oldMembers(tv[0], "arguments")
		w.str(fv[0], false)
		return true
	})
}
func oldScan(s *Set, sd Side, text []byte, sc *scratch) []Match {
	sc.matches = sc.matches[:0]
	if s == nil || !s.sides[sd].any || len(text) == 0 {
		return sc.matches
	}
	side := &s.sides[sd]
	if side.anchors != nil {
		sc.windows = sc.windows[:0]
		oldFind(side.anchors, text, func(id, start, end int) {
			ref := &side.anchorOf[id]
			if ref.near != nil && !ref.near(text, start) {
				return
			}
			sc.windows = append(sc.windows, window{ref.rule, max(0, start-ref.back), min(len(text), start+ref.fwd), ref.line})
		})
		slices.SortFunc(sc.windows, func(a, b window) int {
			if a.rule != b.rule {
				return a.rule - b.rule
			}
			return a.start - b.start
		})
		for i := 0; i < len(sc.windows); {
			w := sc.windows[i]
			j := i + 1
			for j < len(sc.windows) && sc.windows[j].rule == w.rule && sc.windows[j].start <= w.end {
				w.end = max(w.end, sc.windows[j].end)
				j++
			}
			// Whole lines for a rule anchored at line starts, so its ^
			// sees the text's own context, not the window's edge; the
			// others check word boundaries against the whole text.
			if w.line {
				w.start, w.end = lineStart(text, w.start), lineEnd(text, w.end)
			}
			oldRegexIn(s, sd, w.rule, text, w.start, w.end, sc)
			i = j
		}
	}
	for _, ri := range side.plain {
		oldRegexIn(s, sd, ri, text, 0, len(text), sc)
	}
	if side.keywords != nil {
		fold(text, &sc.f)
		oldFind(side.keywords, sc.f.b, func(id, start, end int) {
			ri := side.kwRule[id]
			a, b := sc.f.span(start, end)
			if b-a <= s.rules[ri].maxLen && !s.rules[ri].allow[string(text[a:b])] {
				sc.matches = append(sc.matches, Match{a, b, ri})
			}
		})
	}
	return oldResolve(sc.matches)
}

// oldRegexIn runs rule ri's regex over text[lo:hi] and keeps its matches.
func oldRegexIn(s *Set, sd Side, ri int, text []byte, lo, hi int, sc *scratch) {
	r := &s.rules[ri]
	win := text[lo:hi]
	for _, loc := range r.re.FindAllSubmatchIndex(win, -1) {
		a, b := loc[0], loc[1]
		if b-a > r.maxLen {
			continue
		}
		for _, g := range r.secret {
			if loc[2*g] >= 0 {
				a, b = loc[2*g], loc[2*g+1]
				break
			}
		}
		if b <= a {
			continue
		}
		if r.alpha != nil && (lo+a > 0 && r.alpha[text[lo+a-1]] || lo+b < len(text) && r.alpha[text[lo+b]]) {
			continue // part of a longer word: not this token
		}
		if r.allow[string(win[a:b])] {
			continue
		}
		if r.reject != nil {
			groups := make([][2]int, len(r.groups))
			for gi := range groups {
				groups[gi] = [2]int{loc[2*gi], loc[2*gi+1]}
			}
			if r.reject(win[a:b], win, groups, r.groups) {
				continue
			}
		}
		sc.matches = append(sc.matches, Match{lo + a, lo + b, ri})
	}
}

// oldResolve sorts matches and drops the ones overlapping an earlier pick.
func oldResolve(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	slices.SortFunc(ms, func(a, b Match) int {
		switch {
		case a.Start != b.Start:
			return a.Start - b.Start
		case a.End != b.End:
			return b.End - a.End
		}
		return a.Rule - b.Rule
	})
	out := ms[:1]
	for _, m := range ms[1:] {
		if m.Start >= out[len(out)-1].End {
			out = append(out, m)
		}
	}
	return out
}

// oldFind calls fn for every occurrence of every pattern in b, overlapping
// ones included, with the pattern's id and the occurrence's byte range.
func oldFind(m *acMatcher, b []byte, fn func(id, start, end int)) {
	if m.dfa != nil {
		dfa := m.dfa
		s := uint(0)
		for i, c := range b {
			t := dfa[s<<8|uint(c)]
			s = uint(t &^ dfaOut)
			if t&dfaOut != 0 {
				oldEmit(m, int32(s), i, fn)
			}
		}
		return
	}
	s := int32(0)
	for i := 0; i < len(b); i++ {
		c := b[i]
		for {
			if s == 0 {
				s = m.root[c]
				break
			}
			if t := m.step(s, c); t >= 0 {
				s = t
				break
			}
			s = m.nodes[s].fail
		}
		if s != 0 {
			oldEmit(m, s, i, fn)
		}
	}
}

// oldEmit reports the patterns ending at b[i] in state s.
func oldEmit(m *acMatcher, s int32, i int, fn func(id, start, end int)) {
	for o := s; o >= 0; o = m.nodes[o].dict {
		n := m.nodes[o]
		for _, id := range m.outs[n.outFirst : n.outFirst+n.outN] {
			fn(int(id), i+1-m.lens[id], i+1)
		}
	}
}

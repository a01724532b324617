package filter

// The response filter as it was before the fast paths (commit ccb4007),
// kept as the oracle the differential tests and the before/after
// benchmarks compare the current one with. One change: open blocks are
// let go and closed in index order, not a map's random order, in both.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/proxy/sse"
)

// oldStreamFilter wraps a streamed answer's body (text/event-stream).
type oldStreamFilter struct {
	set   *Set
	src   io.ReadCloser
	sc    sse.Scanner
	out   bytes.Buffer
	held  bool // redacting or blocking rules: frames are held back
	hold  int
	block map[int]*oldBlockState // open content blocks by index
	hits  map[int]*Hit
	// Blocked is set once a rule blocked the answer; the stream then
	// ended with the open blocks closed and an error frame.
	Blocked *Blocked
	done    bool
	err     error
	onHit   func(Hit)
	scratch scratch
	buf     []byte
}

// oldBlockState is one content block being scanned.
type oldBlockState struct {
	index  int
	json   bool // input_json_delta fragments (JSON source), not text
	skip   bool // thinking and other blocks: passed as they are
	base   int  // absolute offset of win[0] in the block's text
	win    []byte
	end    int // absolute end of the text (base + len(win))
	decide int // matches starting before this were decided
	frames []oldHeldFrame
	edits  []edit // decided redactions not yet emitted (absolute offsets)
	// json string state at win's end, for fragments
	inStr, esc bool
	strMask    []bool // per byte of win: inside a JSON string, not in an escape
}

type oldHeldFrame struct {
	raw        []byte
	data       []byte
	start, end int // the frame's text in the block's absolute offsets
}

// newOldStreamFilter filters src with set's response rules; onHit (may be
// nil) is called once per rule with its count when the stream ends.
func newOldStreamFilter(s *Set, src io.ReadCloser, onHit func(Hit)) *oldStreamFilter {
	f := &oldStreamFilter{set: s, src: src, block: map[int]*oldBlockState{}, hits: map[int]*Hit{}, onHit: onHit}
	f.hold = s.Hold(Response)
	f.held = f.hold > 0
	if !f.held {
		f.hold = 0
		for i := range s.rules {
			if s.rules[i].actions[Response] != "" {
				f.hold = max(f.hold, s.rules[i].maxLen)
			}
		}
	}
	return f
}

// Read returns the filtered stream.
func (f *oldStreamFilter) Read(p []byte) (int, error) {
	for f.out.Len() == 0 {
		if f.done {
			if f.err != nil {
				return 0, f.err
			}
			return 0, io.EOF
		}
		if cap(f.buf) == 0 {
			f.buf = make([]byte, 32<<10)
		}
		n, err := f.src.Read(f.buf)
		if n > 0 {
			f.sc.Feed(f.buf[:n], f.frame)
		}
		if err != nil {
			f.sc.Flush(f.frame)
			f.finish()
			if err != io.EOF {
				f.err = err
			}
			f.done = true
		}
		if f.Blocked != nil && !f.done {
			f.done = true
			f.src.Close()
		}
	}
	return f.out.Read(p)
}

// Close closes the upstream body.
func (f *oldStreamFilter) Close() error {
	f.finish()
	return f.src.Close()
}

// finish lets go of whatever is held (a stream that ended without its
// blocks' stops) and reports the hits, once.
func (f *oldStreamFilter) finish() {
	if f.hits == nil {
		return
	}
	// In index order: a map's order is random, and the frames let go of
	// here (and which block a rule blocks first) must not be.
	for _, idx := range slices.Sorted(maps.Keys(f.block)) {
		if b := f.block[idx]; f.Blocked == nil {
			f.advance(b, true)
		}
	}
	if f.onHit != nil {
		for _, h := range sortedHits(f.hits) {
			f.onHit(h)
		}
	}
	f.hits = nil
}

func (f *oldStreamFilter) frame(fr sse.Frame) {
	if f.Blocked != nil {
		return
	}
	switch fr.Event {
	case "content_block_start":
		var v struct {
			Index        int `json:"index"`
			ContentBlock struct {
				Type string `json:"type"`
			} `json:"content_block"`
		}
		json.Unmarshal(fr.Data, &v)
		t := v.ContentBlock.Type
		f.block[v.Index] = &oldBlockState{index: v.Index, json: t == "tool_use" || t == "server_tool_use", skip: t != "text" && t != "tool_use" && t != "server_tool_use"}
	case "content_block_delta":
		if f.delta(fr) {
			return
		}
	case "content_block_stop":
		var v struct {
			Index int `json:"index"`
		}
		json.Unmarshal(fr.Data, &v)
		if b := f.block[v.Index]; b != nil {
			f.advance(b, true)
			delete(f.block, v.Index)
			if f.Blocked != nil {
				return // the block was closed with the error frame
			}
		}
	}
	f.out.Write(fr.Raw)
}

// delta takes a content_block_delta; false means pass it on as it is.
func (f *oldStreamFilter) delta(fr sse.Frame) bool {
	var v struct {
		Index int `json:"index"`
		Delta struct {
			Type        string  `json:"type"`
			Text        *string `json:"text"`
			PartialJSON *string `json:"partial_json"`
		} `json:"delta"`
	}
	if json.Unmarshal(fr.Data, &v) != nil {
		return false
	}
	b := f.block[v.Index]
	var text *string
	switch v.Delta.Type {
	case "text_delta":
		text = v.Delta.Text
	case "input_json_delta":
		text = v.Delta.PartialJSON
	}
	if b == nil || b.skip || text == nil {
		return false
	}
	hf := oldHeldFrame{start: b.end, end: b.end + len(*text)}
	b.win = append(b.win, *text...)
	if b.json {
		for i := 0; i < len(*text); i++ {
			c := (*text)[i]
			switch {
			case b.esc:
				b.esc = false
				b.strMask = append(b.strMask, false)
				continue
			case b.inStr && c == '\\':
				b.esc = true
				b.strMask = append(b.strMask, false)
				continue
			case c == '"':
				b.inStr = !b.inStr
				b.strMask = append(b.strMask, false)
				continue
			}
			b.strMask = append(b.strMask, b.inStr)
		}
	}
	b.end = hf.end
	if !f.held {
		f.out.Write(fr.Raw)
		f.advance(b, false)
		return true
	}
	hf.raw = bytes.Clone(fr.Raw)
	hf.data = bytes.Clone(fr.Data)
	b.frames = append(b.frames, hf)
	f.advance(b, false)
	return true
}

// advance decides the matches that can no longer grow and lets go of the
// frames before them; at the block's end (stop) everything is decided.
func (f *oldStreamFilter) advance(b *oldBlockState, stop bool) {
	final := b.end - f.hold
	if f.held {
		final = b.base + oldSettled(f.set, Response, b.win)
	}
	if stop {
		final = b.end
	}
	if final > b.decide {
		for _, m := range oldScan(f.set, Response, b.win, &f.scratch) {
			m.Start += b.base
			m.End += b.base
			if m.Start < b.decide || m.Start >= final {
				continue
			}
			if b.json && !b.inString(m.Start, m.End) {
				continue
			}
			r := f.set.Rule(Response, m)
			h := f.hits[m.Rule]
			if h == nil {
				h = &Hit{List: r.List, Entry: r.Entry, Rule: r.Name, Action: r.Action, Side: Response.String()}
				f.hits[m.Rule] = h
			}
			h.Count++
			switch r.Action {
			case Block:
				f.Blocked = &Blocked{Rule: r}
				f.endBlocked(b)
				return
			case Redact:
				b.edits = append(b.edits, edit{m.Start, m.End, f.set.Placeholder(r.Name, b.win[m.Start-b.base:m.End-b.base])})
				final = max(final, m.End)
			}
		}
		b.decide = final
	}
	if f.held {
		f.emit(b, b.decide)
	}
	// Keep what is undecided, and enough before it for a rule's context
	// (line starts, word boundaries).
	keep := max(b.base, b.decide-f.hold)
	if len(b.frames) > 0 {
		keep = min(keep, b.frames[0].start)
	}
	if cut := keep - b.base; cut > 0 {
		b.win = b.win[:copy(b.win, b.win[cut:])]
		if b.json {
			b.strMask = b.strMask[:copy(b.strMask, b.strMask[cut:])]
		}
		b.base = keep
	}
}

// inString: all of [s, e) lies in one JSON string value, outside escapes.
func (b *oldBlockState) inString(s, e int) bool {
	for i := s; i < e; i++ {
		if !b.strMask[i-b.base] {
			return false
		}
	}
	return true
}

// emit lets go of the held frames whose text ends by upTo, rewriting
// those a redaction touches.
func (f *oldStreamFilter) emit(b *oldBlockState, upTo int) {
	n := 0
	for _, hf := range b.frames {
		if hf.end > upTo && hf.end > hf.start {
			break
		}
		n++
		var touched []edit
		for _, e := range b.edits {
			if e.end > hf.start && e.start < hf.end || e.start == hf.start && e.end == e.start {
				touched = append(touched, e)
			}
		}
		if len(touched) == 0 {
			f.out.Write(hf.raw)
			continue
		}
		text := b.win[hf.start-b.base : hf.end-b.base]
		var nt []byte
		pos := hf.start
		for _, e := range touched {
			if e.start > pos {
				nt = append(nt, text[pos-hf.start:e.start-hf.start]...)
			}
			if e.start >= hf.start {
				nt = append(nt, e.repl...)
			}
			pos = max(pos, min(e.end, hf.end))
		}
		nt = append(nt, text[pos-hf.start:]...)
		f.writeDelta(hf.data, nt)
	}
	b.frames = b.frames[:copy(b.frames, b.frames[n:])]
	// Drop edits wholly emitted.
	k := 0
	for _, e := range b.edits {
		if e.end > upTo || len(b.frames) > 0 && e.end > b.frames[0].start {
			b.edits[k] = e
			k++
		}
	}
	b.edits = b.edits[:k]
}

// writeDelta writes a content_block_delta frame whose delta string is
// replaced by text, every other byte of its data as it came.
func (f *oldStreamFilter) writeDelta(data, text []byte) {
	delta := jsonscan.Field(data, "delta")
	var val []byte
	jsonscan.TopLevel(delta, func(key, v []byte) bool {
		if string(key) == "text" || string(key) == "partial_json" {
			val = v
			return false
		}
		return true
	})
	if val == nil {
		return
	}
	at := offset(data, val)
	f.out.WriteString("event: content_block_delta\ndata: ")
	f.out.Write(data[:at])
	f.out.Write(oldEncodeString(text))
	f.out.Write(data[at+len(val):])
	f.out.WriteString("\n\n")
}

func oldEncodeString(b []byte) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(string(b))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// endBlocked ends a blocked answer: the held frames are dropped, every
// open block is closed, and an error frame names the list.
func (f *oldStreamFilter) endBlocked(cur *oldBlockState) {
	for _, idx := range slices.Sorted(maps.Keys(f.block)) { // in order, as above
		fmt.Fprintf(&f.out, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", idx)
	}
	msg, _ := json.Marshal(f.Blocked.Answer())
	fmt.Fprintf(&f.out, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":%s}}\n\n", msg)
	f.block = map[int]*oldBlockState{}
	cur.frames = nil
}

// FilterAnswer scans a whole (non-streamed) Messages answer: the text of
// its text blocks and the string values of its tool calls' inputs, never
// its thinking. The result is like FilterRequest's.
func oldFilterAnswer(s *Set, body []byte) RequestResult {
	res := RequestResult{Body: body}
	if !s.Active(Response) || len(body) == 0 {
		return res
	}
	w := &oldWalker{body: body}
	if jsonscan.Members(body, func(key, val []byte) error {
		if string(key) == "content" {
			w.content(val)
		}
		return nil
	}) != nil {
		return res // not an answer Ferry can read: passed as it is
	}
	return oldApply(s, Response, body, w.fields, false, res)
}

func oldSettled(s *Set, sd Side, text []byte) int {
	side := &s.sides[sd]
	p := len(text) - side.tail
	if side.anchors != nil {
		oldFind(side.anchors, text, func(id, start, end int) {
			ref := &side.anchorOf[id]
			open := start+ref.fwd > len(text)
			if ref.line {
				open = open && bytes.IndexByte(text[end:], '\n') < 0
			}
			if open {
				p = min(p, start-ref.back)
			}
		})
	}
	return max(p, 0)
}

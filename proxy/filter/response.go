package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
	"github.com/ferry-gateway/ferry/proxy/sse"
)

// The response side: a streamed answer's text_delta texts and
// input_json_delta fragments are scanned as one text per content block.
// To redact a match split across frames, a block's frames are held back
// until the text after them is at least the longest maximum match length
// of the redacting and blocking rules (Set.Hold), and all are let go at
// content_block_stop. A held frame with nothing to change goes out byte
// for byte; one that changes is rebuilt with only its delta's string
// replaced. Thinking blocks are signed and pass untouched, as do all
// other events. With only flagging rules nothing is held: frames go out as
// they come and the scan runs beside them.
//
// An input_json_delta fragment is JSON source (the tool input as the
// model writes it), so there a match is accepted only if it lies inside
// one string value and cuts no escape: the placeholder then keeps the JSON
// valid. Exact-format secrets match there; a .env line inside a JSON
// string (its newlines escaped) does not.

// BlockedAnswer is the message of the error frame that ends a blocked
// answer, or of the error a blocked non-streamed answer becomes.
func (b *Blocked) Answer() string {
	return fmt.Sprintf("Ferry blocked this answer: entry %d (%s) of filter list %q matched the model's output.",
		b.Rule.Entry, b.Rule.Name, b.Rule.List)
}

// StreamFilter wraps a streamed answer's body (text/event-stream).
type StreamFilter struct {
	set   *Set
	src   io.ReadCloser
	sc    sse.Scanner
	out   bytes.Buffer
	held  bool // redacting or blocking rules: frames are held back
	hold  int
	block map[int]*blockState // open content blocks by index
	hits  map[int]*Hit
	// Blocked is set once a rule blocked the answer; the stream then
	// ended with the open blocks closed and an error frame.
	Blocked *Blocked
	done    bool
	err     error
	onHit   func(Hit)
	scratch scratch
	buf     *[]byte // from readBufs until the stream is done
	text    []byte  // a delta's decoded text, when it had escapes
	// anchorMax is the longest response anchor: how far back of new
	// text an anchor ending in it may start.
	anchorMax int
}

// readBufs are the buffers upstream reads land in: one per answer was
// 32 KiB to allocate and clear (mallocgcLarge in the bench profile).
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// blockState is one content block being scanned.
type blockState struct {
	index  int
	json   bool // input_json_delta fragments (JSON source), not text
	skip   bool // thinking and other blocks: passed as they are
	base   int  // absolute offset of win[0] in the block's text
	win    []byte
	end    int // absolute end of the text (base + len(win))
	decide int // matches starting before this were decided
	frames []heldFrame
	edits  []edit       // decided redactions not yet emitted (absolute offsets)
	occ    []occurrence // the anchors in win (anchors.go)
	// json string state at win's end, for fragments
	inStr, esc bool
	strMask    []bool // per byte of win: inside a JSON string, not in an escape
}

type heldFrame struct {
	raw        []byte
	data       []byte
	start, end int // the frame's text in the block's absolute offsets
}

// NewStreamFilter filters src with set's response rules; onHit (may be
// nil) is called once per rule with its count when the stream ends.
func (s *Set) NewStreamFilter(src io.ReadCloser, onHit func(Hit)) *StreamFilter {
	f := &StreamFilter{set: s, src: src, block: map[int]*blockState{}, hits: map[int]*Hit{}, onHit: onHit}
	f.hold = s.Hold(Response)
	if m := s.sides[Response].anchors; m != nil {
		f.anchorMax = slices.Max(m.lens)
	}
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
func (f *StreamFilter) Read(p []byte) (int, error) {
	for f.out.Len() == 0 {
		if f.done {
			if f.err != nil {
				return 0, f.err
			}
			return 0, io.EOF
		}
		if f.buf == nil {
			f.buf = readBufs.Get().(*[]byte)
		}
		n, err := f.src.Read(*f.buf)
		if n > 0 {
			f.sc.Feed((*f.buf)[:n], f.frame)
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
		if f.done {
			// Nothing the scanner or the filter keeps aliases it.
			readBufs.Put(f.buf)
			f.buf = nil
		}
	}
	return f.out.Read(p)
}

// Close closes the upstream body.
func (f *StreamFilter) Close() error {
	f.finish()
	return f.src.Close()
}

// finish lets go of whatever is held (a stream that ended without its
// blocks' stops) and reports the hits, once.
func (f *StreamFilter) finish() {
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

func (f *StreamFilter) frame(fr sse.Frame) {
	if f.Blocked != nil {
		return
	}
	switch fr.Event {
	case "content_block_start":
		idx, t := readStart(fr.Data)
		f.block[idx] = &blockState{index: idx, json: t == "tool_use" || t == "server_tool_use", skip: t != "text" && t != "tool_use" && t != "server_tool_use"}
	case "content_block_delta":
		if f.delta(fr) {
			return
		}
	case "content_block_stop":
		idx := readStop(fr.Data)
		if b := f.block[idx]; b != nil {
			f.advance(b, true)
			delete(f.block, idx)
			if f.Blocked != nil {
				return // the block was closed with the error frame
			}
		}
	}
	f.out.Write(fr.Raw)
}

// delta takes a content_block_delta; false means pass it on as it is.
func (f *StreamFilter) delta(fr sse.Frame) bool {
	v, ok := readDelta(fr.Data, &f.text)
	if !ok {
		return false
	}
	b := f.block[v.index]
	var text []byte
	var has bool
	switch string(v.typ) {
	case "text_delta":
		text, has = v.text, v.hasText
	case "input_json_delta":
		text, has = v.partial, v.hasPartial
	}
	if b == nil || b.skip || !has {
		return false
	}
	hf := heldFrame{start: b.end, end: b.end + len(text)}
	b.win = append(b.win, text...)
	if b.json {
		for i := 0; i < len(text); i++ {
			c := text[i]
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
	oldEnd := b.end
	b.end = hf.end
	f.trackAnchors(b, oldEnd)
	if !f.held {
		f.out.Write(fr.Raw)
		f.advance(b, false)
		return true
	}
	hf.raw, hf.data = cloneFrame(fr.Raw, fr.Data)
	b.frames = append(b.frames, hf)
	f.advance(b, false)
	return true
}

// cloneFrame copies a held frame's bytes: its data is one slice of its
// raw bytes when it has one data line, so one copy serves both.
func cloneFrame(raw, data []byte) ([]byte, []byte) {
	r := bytes.Clone(raw)
	if k := cap(raw) - cap(data); len(data) > 0 && k >= 0 && k+len(data) <= len(raw) && &raw[k] == &data[0] {
		return r, r[k : k+len(data) : k+len(data)]
	}
	return r, bytes.Clone(data)
}

// advance decides the matches that can no longer grow and lets go of the
// frames before them; at the block's end (stop) everything is decided.
func (f *StreamFilter) advance(b *blockState, stop bool) {
	final := b.end - f.hold
	if f.held {
		final = f.settledAt(b)
	}
	if stop {
		final = b.end
	}
	if final > b.decide && f.noMatch(b) {
		b.decide = final
	}
	if final > b.decide {
		for _, m := range f.set.scan(Response, b.win, &f.scratch) {
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
		// Re-sliced, not copied down: append moves the live part when
		// the array is full, so each byte is copied a bounded number of
		// times rather than once per frame (the whole window, 16 KiB
		// with its mask, per frame of a long tool input).
		b.win = b.win[cut:]
		if b.json {
			b.strMask = b.strMask[cut:]
		}
		b.base = keep
		b.dropAnchors()
	}
}

// inString: all of [s, e) lies in one JSON string value, outside escapes.
func (b *blockState) inString(s, e int) bool {
	for i := s; i < e; i++ {
		if !b.strMask[i-b.base] {
			return false
		}
	}
	return true
}

// emit lets go of the held frames whose text ends by upTo, rewriting
// those a redaction touches.
func (f *StreamFilter) emit(b *blockState, upTo int) {
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
func (f *StreamFilter) writeDelta(data, text []byte) {
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
	f.out.Write(encodeString(text))
	f.out.Write(data[at+len(val):])
	f.out.WriteString("\n\n")
}

func encodeString(b []byte) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(string(b))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// endBlocked ends a blocked answer: the held frames are dropped, every
// open block is closed, and an error frame names the list.
func (f *StreamFilter) endBlocked(cur *blockState) {
	for _, idx := range slices.Sorted(maps.Keys(f.block)) { // in order, as above
		fmt.Fprintf(&f.out, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":%d}\n\n", idx)
	}
	msg, _ := json.Marshal(f.Blocked.Answer())
	fmt.Fprintf(&f.out, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":%s}}\n\n", msg)
	f.block = map[int]*blockState{}
	cur.frames = nil
}

// FilterAnswer scans a whole (non-streamed) Messages answer: the text of
// its text blocks and the string values of its tool calls' inputs, never
// its thinking. The result is like FilterRequest's.
func (s *Set) FilterAnswer(body []byte) RequestResult {
	res := RequestResult{Body: body}
	if !s.Active(Response) || len(body) == 0 {
		return res
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	w := &walker{body: body, fields: sc.fields[:0]}
	if jsonscan.Members(body, func(key, val []byte) error {
		if string(key) == "content" {
			w.content(val)
		}
		return nil
	}) != nil {
		return res // not an answer Ferry can read: passed as it is
	}
	sc.fields = w.fields
	return s.apply(Response, body, w.fields, false, res, sc)
}

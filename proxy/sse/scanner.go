package sse

import (
	"bytes"
	"strings"
)

// DefaultMax is the frame size limit used when Scanner.Max is 0.
const DefaultMax = 16 << 20

// Frame is one dispatched SSE frame.
//
// Event, Data and Raw alias the scanner's or the caller's buffers and are
// valid only during the callback that receives the Frame: copy what you keep
// (bytes.Clone, or string(...)). Event is the exception: it is a string and
// may be kept.
type Frame struct {
	// Event is the value of the frame's last "event:" line ("" if none).
	Event string
	// Data is the frame's "data:" lines joined by "\n" (nil if none).
	Data []byte
	// Raw is the frame's exact bytes including its blank-line terminator.
	// It also starts with any bytes the scanner ignored since the previous
	// frame (comment-only blocks such as ":ping\n\n", stray blank lines), so
	// that the Raw of all frames, concatenated, is exactly a prefix of the
	// input, unless frames were skipped for size.
	Raw []byte
}

// Scanner cuts a byte stream into SSE frames. The zero value is ready to use.
// A Scanner is not safe for concurrent use.
//
// Lines may end in "\n", "\r\n" or "\r"; a frame ends at a blank line. Lines
// starting with ':' are comments and a block made only of comments is not a
// frame. Any other block (even one with only "id:" or an unknown field) is a
// frame. Frames come out the same whatever way the input is split across
// Feed calls, which means a frame whose blank line ends in "\r" as the very
// last byte fed is held back until the next byte shows whether that "\r" is
// followed by "\n" (call Flush at the end of the stream to release it).
type Scanner struct {
	// Max is the largest frame (Raw length) reported; 0 means DefaultMax.
	// A larger frame is not parsed or buffered beyond Max, it is counted in
	// Skipped and the frames after it are read normally.
	Max int

	buf []byte // the current block (from its first byte) when it spans Feed calls

	// Parse state, offsets relative to the current block's first byte.
	pos      int  // start of the first line not yet processed
	scanFrom int  // where to resume looking for a line terminator (>= pos)
	fields   bool // the block has a non-comment line, so a blank line dispatches it
	hasEvent bool
	evS, evE int
	nData    int    // number of data lines
	dS, dE   int    // the value of the only data line, while nData == 1
	data     []byte // joined data, once nData > 1

	// Skipping an oversized block.
	skipping      bool
	skipAtLine    bool // the last byte skipped ended a line
	skipPrevCR    bool // the last byte skipped was '\r'
	skipFields    bool // the skipped block has a non-comment line
	skipLineFirst bool // the next skipped byte is the first of a line
	dropLF        bool // a leading '\n' in the next Feed ends a skipped block's "\r"

	skipped int
}

// Skipped returns how many frames were larger than Max and not reported.
func (s *Scanner) Skipped() int { return s.skipped }

// InFrame reports whether the bytes fed so far stop inside a frame: part of a
// line, or some lines of a frame whose blank line has not been fed. A writer
// that wants to add a frame of its own to the stream must end that one first.
func (s *Scanner) InFrame() bool {
	if s.skipping {
		return s.skipFields || !s.skipAtLine
	}
	rest := s.buf[min(s.pos, len(s.buf)):]
	if len(rest) == 1 && rest[0] == '\r' {
		// A blank line ended by '\r': the client's parser already saw the
		// frame end (or an ignored block end), whatever follows.
		return false
	}
	return s.fields || len(rest) > 0
}

// Pending describes where the bytes fed so far stop, for a writer that
// must end a cut frame: event is the value of the current frame's last
// complete "event:" line ("" if none), midLine reports that they stop
// inside a line.
func (s *Scanner) Pending() (event string, midLine bool) {
	if s.skipping {
		return "", !s.skipAtLine
	}
	rest := s.buf[min(s.pos, len(s.buf)):]
	midLine = len(rest) > 0 && !(len(rest) == 1 && rest[0] == '\r')
	if s.hasEvent && s.evE <= len(s.buf) {
		event = eventName(s.buf[s.evS:s.evE])
	}
	return event, midLine
}

func (s *Scanner) max() int {
	if s.Max > 0 {
		return s.Max
	}
	return DefaultMax
}

// Feed scans p, calling fn for every frame it completes. p is not retained.
func (s *Scanner) Feed(p []byte, fn func(Frame)) {
	if s.skipping {
		p = s.skip(p)
		if s.skipping {
			return
		}
	}
	if s.dropLF && len(p) > 0 {
		s.dropLF = false
		if p[0] == '\n' {
			p = p[1:]
		}
	}
	if len(p) == 0 {
		return
	}
	if len(s.buf) > 0 {
		s.buf = append(s.buf, p...)
		start := s.scan(s.buf, fn)
		s.buf = s.buf[:copy(s.buf, s.buf[start:])]
	} else {
		start := s.scan(p, fn)
		s.buf = append(s.buf[:0], p[start:]...)
	}
	if len(s.buf) > s.max() {
		s.startSkip()
	}
}

// Flush reports a frame held back because its blank line ended in a '\r' that
// was the last byte fed, and forgets any incomplete frame (as an EventSource
// does at end of stream). The scanner is then ready for a new stream.
func (s *Scanner) Flush(fn func(Frame)) {
	if !s.skipping && s.fields && s.pos == len(s.buf)-1 && s.buf[s.pos] == '\r' {
		s.dispatch(s.buf, 0, len(s.buf), fn)
	}
	skipped := s.skipped
	buf := s.buf[:0]
	data := s.data[:0]
	*s = Scanner{Max: s.Max, buf: buf, data: data, skipped: skipped}
}

// scan processes b, the current block's bytes from its first byte, and
// returns the offset where the (new) current block starts.
func (s *Scanner) scan(b []byte, fn func(Frame)) int {
	start, pos, from := 0, s.pos, s.scanFrom
	for {
		i := indexEOL(b[from:])
		if i < 0 {
			from = len(b)
			break
		}
		end := from + i
		next := end + 1
		if b[end] == '\r' {
			if next == len(b) {
				// "\r" or "\r\n"? The next Feed tells.
				from = end
				break
			}
			if b[next] == '\n' {
				next++
			}
		}
		if end == pos {
			switch {
			case s.fields:
				s.dispatch(b, start, next, fn)
				start = next
			case next-start > s.max():
				// Ignored bytes (comments) beyond Max are dropped, as a
				// skipped block would be, so a split Feed agrees.
				start = next
			}
		} else {
			s.field(b, start, pos, end)
		}
		pos, from = next, next
	}
	s.pos, s.scanFrom = pos-start, from-start
	return start
}

func indexEOL(b []byte) int {
	// IndexByte is vectorised; IndexAny is not, and most lines end in '\n'.
	n := bytes.IndexByte(b, '\n')
	if n < 0 {
		n = len(b)
	}
	if r := bytes.IndexByte(b[:n], '\r'); r >= 0 {
		return r
	}
	if n == len(b) {
		return -1
	}
	return n
}

// field processes the non-blank line b[pos:end] of the block starting at start.
func (s *Scanner) field(b []byte, start, pos, end int) {
	line := b[pos:end]
	if line[0] == ':' {
		return
	}
	s.fields = true
	name, vs := line, end
	if c := bytes.IndexByte(line, ':'); c >= 0 {
		name = line[:c]
		vs = pos + c + 1
		if vs < end && b[vs] == ' ' {
			vs++
		}
	}
	switch string(name) {
	case "event":
		s.hasEvent, s.evS, s.evE = true, vs-start, end-start
	case "data":
		switch s.nData {
		case 0:
			s.dS, s.dE = vs-start, end-start
		case 1:
			s.data = append(s.data[:0], b[start+s.dS:start+s.dE]...)
			fallthrough
		default:
			s.data = append(s.data, '\n')
			s.data = append(s.data, b[vs:end]...)
		}
		s.nData++
	}
}

func (s *Scanner) dispatch(b []byte, start, next int, fn func(Frame)) {
	raw := b[start:next]
	if len(raw) > s.max() {
		s.skipped++
	} else {
		f := Frame{Raw: raw}
		if s.hasEvent {
			f.Event = eventName(b[start+s.evS : start+s.evE])
		}
		switch s.nData {
		case 0:
		case 1:
			f.Data = b[start+s.dS : start+s.dE]
		default:
			f.Data = s.data
		}
		fn(f)
	}
	s.fields, s.hasEvent, s.nData = false, false, 0
}

// eventName returns the name as a string without allocating for the event
// types the Anthropic API sends (the compiler does not allocate for a
// string(b) switch).
func eventName(b []byte) string {
	switch string(b) {
	case "message_start":
		return "message_start"
	case "content_block_start":
		return "content_block_start"
	case "content_block_delta":
		return "content_block_delta"
	case "content_block_stop":
		return "content_block_stop"
	case "message_delta":
		return "message_delta"
	case "message_stop":
		return "message_stop"
	case "ping":
		return "ping"
	case "error":
		return "error"
	case "completion":
		return "completion"
	case "message":
		return "message"
	}
	return string(b)
}

// startSkip switches to skipping the current block, which outgrew Max.
func (s *Scanner) startSkip() {
	rest := s.buf[s.pos:]
	fields := s.fields
	s.fields, s.hasEvent, s.nData = false, false, 0
	if len(rest) == 1 && rest[0] == '\r' {
		// The block is complete; only its "\n" may be missing.
		if fields {
			s.skipped++
		}
		s.dropLF = true
	} else {
		s.skipping = true
		s.skipFields = fields || (len(rest) > 0 && rest[0] != ':')
		s.skipAtLine = len(rest) == 0 || rest[len(rest)-1] == '\r'
		s.skipPrevCR = len(rest) > 0 && rest[len(rest)-1] == '\r'
		s.skipLineFirst = s.skipAtLine
	}
	s.buf = s.buf[:0]
	s.pos, s.scanFrom = 0, 0
	if cap(s.buf) > 64<<10 {
		s.buf = nil // don't keep a huge buffer for the rest of the stream
	}
}

// skip consumes p while skipping an oversized block and returns what follows
// the block's blank line (if it was reached).
func (s *Scanner) skip(p []byte) []byte {
	for len(p) > 0 {
		if s.skipPrevCR {
			s.skipPrevCR = false
			if p[0] == '\n' {
				p = p[1:]
				continue
			}
		}
		if s.skipLineFirst {
			s.skipLineFirst = false
			if p[0] != '\r' && p[0] != '\n' && p[0] != ':' {
				s.skipFields = true
			}
		}
		i := indexEOL(p)
		if i < 0 {
			s.skipAtLine = false
			return nil
		}
		if i > 0 {
			s.skipAtLine = false
		}
		c := p[i]
		p = p[i+1:]
		s.skipPrevCR = c == '\r'
		s.skipLineFirst = true
		if s.skipAtLine {
			s.skipping = false
			if s.skipFields {
				s.skipped++
			}
			if s.skipPrevCR {
				if len(p) == 0 {
					s.dropLF = true
				} else if p[0] == '\n' {
					p = p[1:]
				}
			}
			s.skipPrevCR, s.skipLineFirst = false, false
			return p
		}
		s.skipAtLine = true
	}
	return p
}

// IsEventStream reports whether a Content-Type value names an event stream
// ("text/event-stream", any case, parameters such as charset allowed).
func IsEventStream(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "text/event-stream")
}

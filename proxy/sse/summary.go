package sse

import (
	"bytes"
	"time"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

// Summary is what the one scan of an Anthropic event stream learns for a
// reader of its usage: the proxy scans every stream it relays (to repair
// one that breaks), so the meter takes this at the end instead of holding
// the stream's bytes and scanning them a second time. Keeping it costs a
// switch per frame and a copy of the few small frames that carry usage.
type Summary struct {
	// Frames are the stream's message_start, message_delta and error
	// frames in order, their data copied.
	Frames []KeptFrame
	// FirstDelta is when the first content_block_delta arrived; zero if
	// none did.
	FirstDelta time.Time
	// Truncated is set when the kept frames passed MaxSummaryBytes (a
	// hostile or broken upstream): the later ones were dropped.
	Truncated bool

	kept int
}

// KeptFrame is one frame a Summary keeps.
type KeptFrame struct {
	Event string
	Data  []byte
}

// MaxSummaryBytes bounds the data a Summary keeps. A real stream has one
// message_start and one message_delta of a few hundred bytes each.
const MaxSummaryBytes = 256 << 10

// Add takes one frame of the stream; now is called only for the first
// content delta.
func (s *Summary) Add(f Frame, now func() time.Time) {
	ev := f.Event
	if ev == "" && len(f.Data) > 0 {
		// A stream without event: lines still says its type in the data.
		ev = dataType(f.Data)
	}
	switch ev {
	case "content_block_delta":
		if s.FirstDelta.IsZero() {
			s.FirstDelta = now()
		}
	case "message_start", "message_delta", "error":
		if s.kept+len(f.Data) > MaxSummaryBytes {
			s.Truncated = true
			return
		}
		s.kept += len(f.Data)
		s.Frames = append(s.Frames, KeptFrame{Event: ev, Data: bytes.Clone(f.Data)})
	}
}

// dataType reads the top-level "type" of a frame's JSON data as the
// meter does for a stream without event: lines.
func dataType(b []byte) string {
	return jsonscan.String(jsonscan.Field(b, "type"))
}

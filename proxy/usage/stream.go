package usage

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/ferry-gateway/ferry/proxy/sse"
)

// feed reads decoded body bytes that arrived at at.
func (m *Meter) feed(p []byte, at time.Time) {
	switch m.mode {
	case modeSSE:
		if m.onFrame == nil {
			m.onFrame = m.frameNow
		}
		m.frameAt = at
		m.scanner.Feed(p, m.onFrame)
	case modeJSONL:
		m.lines(p)
	case modeJSON:
		m.keep(p)
	}
}

func (m *Meter) frameNow(f sse.Frame) { m.frame(f, m.frameAt) }

// frame reads one SSE frame. Content deltas, the bulk of a stream, are not
// parsed at all: only their arrival time matters.
func (m *Meter) frame(f sse.Frame, at time.Time) {
	if m.kind == kindChat {
		m.chatChunk(f.Data, at)
		return
	}
	ev := f.Event
	if ev == "" && len(f.Data) > 0 {
		// A stream without event: lines still carries the type in its data.
		var t struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(f.Data, &t) != nil {
			return
		}
		ev = t.Type
	}
	switch ev {
	case "content_block_delta":
		if m.firstToken.IsZero() {
			m.firstToken = at
		}
	case "message_start", "message_delta":
		// Decoded in Done: a stream's next bytes wait for this call. A
		// stream with very many of them is read as it goes, so memory stays
		// bounded.
		if len(m.pending) >= maxPendingFrames {
			m.applyPending()
		}
		m.pending = append(m.pending, pendingFrame{start: ev == "message_start", data: bytes.Clone(f.Data)})
	case "error":
		var v errorBody
		if json.Unmarshal(f.Data, &v) == nil && v.errType() != "" {
			m.errType, m.errFrame = v.errType(), true
		}
	}
}

// maxPendingFrames bounds the frames a Meter keeps for Done.
const maxPendingFrames = 64

// pendingFrame is a message_start or message_delta kept for Done.
type pendingFrame struct {
	start bool
	data  []byte
}

// applyPending reads the usage of the message_start and message_delta
// frames in the order they came: message_start's usage, overlaid by every
// non-null field of each message_delta's (their counts are cumulative).
// A frame json.Unmarshal would refuse is skipped whole.
func (m *Meter) applyPending() {
	for _, p := range m.pending {
		if p.start {
			var f startFrame
			if f.decode(p.data) != nil {
				continue
			}
			if f.model != "" {
				m.model = f.model
			}
			if f.usage != nil {
				m.usage, m.haveUsage = *f.usage, true
			}
			continue
		}
		u, err := deltaUsage(p.data)
		if err != nil || u == nil {
			continue
		}
		m.usage.overlay(u)
		m.haveUsage = true
	}
	m.pending = nil
}

// startFrame is what Done reads of a message_start frame.
type startFrame struct {
	model string
	usage *apiUsage
}

// decode reads message.model and message.usage as json.Unmarshal would
// into a struct of those two (see apiUsage.decode).
func (f *startFrame) decode(b []byte) error {
	return decodeMembers(b, []string{"message"}, func(_ string, msg []byte) error {
		if isNull(msg) {
			return nil
		}
		return decodeMembers(msg, []string{"model", "usage"}, func(name string, val []byte) error {
			if name == "usage" {
				return decodeObject(&f.usage, val)
			}
			if isNull(val) {
				return nil // json.Unmarshal leaves a string alone for null
			}
			s, err := jsonString(val)
			if err != nil {
				return err
			}
			f.model = s
			return nil
		})
	})
}

// deltaUsage reads the usage of a message_delta frame as json.Unmarshal
// would into a struct of that one field: nil when absent or null.
func deltaUsage(b []byte) (*apiUsage, error) {
	var u *apiUsage
	err := decodeMembers(b, []string{"usage"}, func(_ string, val []byte) error {
		return decodeObject(&u, val)
	})
	return u, err
}

// chatChunk reads one data frame of an OpenAI-format stream.
func (m *Meter) chatChunk(data []byte, at time.Time) {
	if len(data) == 0 || bytes.Equal(data, []byte("[DONE]")) {
		return
	}
	// Once the first token is dated only usage, model and errors matter,
	// and most chunks carry none of them with a value.
	if !m.firstToken.IsZero() && m.model != "" &&
		!bytes.Contains(data, []byte(`"usage":{`)) && !bytes.Contains(data, []byte(`"usage": {`)) &&
		!bytes.Contains(data, []byte(`"error"`)) {
		return
	}
	var v struct {
		Model   string       `json:"model"`
		Usage   *openAIUsage `json:"usage"`
		Choices []struct {
			Delta struct {
				Content          string          `json:"content"`
				ReasoningContent string          `json:"reasoning_content"`
				ToolCalls        json.RawMessage `json:"tool_calls"`
			} `json:"delta"`
		} `json:"choices"`
		errorBody
	}
	if json.Unmarshal(data, &v) != nil {
		return
	}
	if v.Model != "" {
		m.model = v.Model
	}
	if m.firstToken.IsZero() {
		for _, c := range v.Choices {
			if c.Delta.Content != "" || c.Delta.ReasoningContent != "" || len(c.Delta.ToolCalls) > 0 {
				m.firstToken = at
				break
			}
		}
	}
	if v.Usage != nil {
		m.usage = *v.Usage.anthropic()
		m.haveUsage = true
	}
	if t := v.errType(); t != "" {
		m.errType, m.errFrame = t, true
	}
}

// lines reads JSONL (batch results), one line at a time.
func (m *Meter) lines(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(m.line)+len(p) > m.limit {
				m.over = true // a line this long is skipped, not parsed
				m.line = m.line[:0]
				return
			}
			m.line = append(m.line, p...)
			return
		}
		if m.over {
			m.over = false // the oversized line ends here
		} else if len(m.line) > 0 {
			m.line = append(m.line, p[:i]...)
			m.batchLine(m.line)
			m.line = m.line[:0]
		} else {
			m.batchLine(p[:i])
		}
		p = p[i+1:]
	}
}

// UseSummary makes the meter take a plain event stream's usage frames
// from the proxy's own scan of it (Summary) instead of holding and
// scanning its bytes: the stream is then read once, by the proxy. It says
// no for anything but a plain event stream. The clock it returns reads the
// time the meter dated the latest Write, so the scan dates the first
// content delta exactly as the meter's own scan would.
func (m *Meter) UseSummary() (func() time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mode != modeSSE || m.coding != "" || m.broken || m.kind == kindChat {
		return nil, false
	}
	m.mode = modeSummary
	return m.lastWrite, true
}

func (m *Meter) lastWrite() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastAt
}

// Summary takes the stream's usage frames (see UseSummary), before Done.
func (m *Meter) Summary(s *sse.Summary) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mode != modeSummary || m.done || s == nil {
		return
	}
	defer m.recover("summary")
	for _, f := range s.Frames {
		m.frame(sse.Frame{Event: f.Event, Data: f.Data}, m.lastAt)
	}
	if !s.FirstDelta.IsZero() {
		m.firstToken = s.FirstDelta
	}
	if s.Truncated {
		m.truncated = true
	}
}

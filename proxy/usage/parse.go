package usage

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/ferry-gateway/ferry/proxy/jsonscan"
)

// decode inflates the buffered compressed body and feeds it as if it had
// arrived decoded, each piece dated by the write that completed it.
func (m *Meter) decode() {
	compressed, marks, wasOver := m.body, m.marks, m.over
	m.body, m.marks, m.over = nil, nil, false
	src := &markedReader{b: compressed}
	r, err := newDecoder(m.coding, src)
	if err != nil {
		m.unknownWhy = err.Error()
		return
	}
	// A decompression bomb stops at a bounded size like any other body.
	lr := io.LimitReader(r, int64(m.limit)*4)
	buf := make([]byte, 4<<10)
	mi := 0
	for {
		n, err := lr.Read(buf)
		if n > 0 {
			for mi < len(marks)-1 && marks[mi].end < src.off {
				mi++
			}
			at := m.lastAt
			if len(marks) > 0 {
				at = marks[mi].at
			}
			m.feed(buf[:n], at)
		}
		if err != nil {
			if err != io.EOF || wasOver {
				m.truncated = true
			}
			break
		}
	}
	m.over = m.over || wasOver
}

// parseBody reads a complete non-streaming body.
func (m *Meter) parseBody(b []byte) {
	if m.parseMessage(b) {
		return
	}
	var v messageBody
	if json.Unmarshal(b, &v) != nil {
		return
	}
	if t := v.errType(); t != "" {
		m.errType = t
		return
	}
	if v.Model != "" {
		m.model = v.Model
	}
	if m.kind == kindCountTokens && v.InputTokens != nil {
		n := *v.InputTokens
		m.counted = &n
		return
	}
	if len(v.Usage) == 0 || bytes.Equal(v.Usage, []byte("null")) {
		return
	}
	if m.kind == kindChat {
		var o openAIUsage
		if json.Unmarshal(v.Usage, &o) == nil {
			m.usage = *o.anthropic()
			m.haveUsage = true
		}
		return
	}
	var u apiUsage
	if u.decode(v.Usage) == nil {
		m.usage = u
		m.haveUsage = true
	}
}

// parseMessage reads a successful message's model and usage with a scan of
// its top-level members, decoding only the small usage object: a full
// json.Unmarshal of the message (its content included) was most of what
// recording cost a request. It reports false when the body is anything
// else, for parseBody's full decode.
func (m *Meter) parseMessage(b []byte) bool {
	if m.kind != kindMessages || m.status < 200 || m.status > 299 {
		return false
	}
	var model string
	var raw []byte
	jsonscan.TopLevel(b, func(key, val []byte) bool {
		switch string(key) {
		case "model":
			model = jsonscan.String(val)
		case "usage":
			raw = val
		case "error":
			raw = nil
			return false
		}
		return true
	})
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var u apiUsage
	if u.decode(raw) != nil {
		return false
	}
	if model != "" {
		m.model = model
	}
	m.usage, m.haveUsage = u, true
	return true
}

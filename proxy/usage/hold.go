package usage

import (
	"sync"
	"time"
)

// maxHeld bounds the stream bytes a Meter holds before reading them.
const maxHeld = 64 << 10

// hold keeps stream bytes, each write marked with its arrival time, to be
// read at Done: a stream's next bytes never wait for the meter's parse
// (measured: that parse was most of what recording added to a request).
// A longer stream is read in pieces of maxHeld, so memory stays bounded.
func (m *Meter) hold(p []byte, at time.Time) {
	if m.held == nil {
		m.held = heldPool.Get().(*heldBytes)
	}
	h := m.held
	if len(h.b)+len(p) > maxHeld {
		m.release()
		if len(p) > maxHeld {
			m.feed(p, at)
			return
		}
	}
	h.b = append(h.b, p...)
	h.marks = append(h.marks, mark{end: len(h.b), at: at})
}

// heldBytes is what hold keeps: the bytes and each write's end and time.
type heldBytes struct {
	b     []byte
	marks []mark
}

// heldPool saves a request the allocations (and zeroing) of what it holds.
// Only small buffers go back, so that a thousand open streams never sit on
// a thousand buffers grown by long ones.
var heldPool = sync.Pool{New: func() any {
	return &heldBytes{b: make([]byte, 0, 4<<10), marks: make([]mark, 0, 32)}
}}

const maxPooledHeld = 16 << 10

// returnHeld gives the held buffers back once Done has read them.
func (m *Meter) returnHeld() {
	if h := m.held; h != nil && cap(h.b) <= maxPooledHeld && cap(h.marks) <= 1024 {
		h.b, h.marks = h.b[:0], h.marks[:0]
		heldPool.Put(h)
	}
	m.held = nil
}

// release reads the held bytes, each write's piece dated by its arrival.
// The buffer is reused: the scanner copies whatever it keeps of p.
func (m *Meter) release() {
	h := m.held
	if h == nil {
		return
	}
	from := 0
	for _, mk := range h.marks {
		m.feed(h.b[from:mk.end], mk.at)
		from = mk.end
	}
	h.b, h.marks = h.b[:0], h.marks[:0]
}

// keep appends p to the body buffer, or marks the body over the cap.
func (m *Meter) keep(p []byte) bool {
	if m.over {
		return false
	}
	if len(m.body)+len(p) > m.limit {
		m.over = true
		if m.mode == modeJSON {
			m.body = nil // unparseable anyway; free it now
		}
		return false
	}
	m.body = append(m.body, p...)
	return true
}

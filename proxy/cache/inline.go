package cache

import (
	"context"
	"io"
	"net/http"
	"strconv"
)

// The leader of a flight reads the upstream body itself while it is alone
// (see flight.body): these are that read, and the hand-over of the body
// to a pump when someone joins or the leader leaves.

// takeOver moves the body the leader reads inline to a pump, between two
// of the leader's reads. It is the pump's goroutine.
func (f *flight) takeOver() {
	f.readMu.Lock()
	body, _ := f.takeBody()
	f.readMu.Unlock()
	if body != nil {
		f.pump(body)
	}
}

// takeBody ends the leader's inline read: it returns the body (nil when
// the leader no longer reads it inline) and whether members are still
// attached to read it.
func (f *flight) takeBody() (body io.ReadCloser, others bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inline {
		body = f.body
	}
	f.inline, f.body = false, nil
	return body, f.attached > 0
}

// readInline reads the upstream body in the leader's own goroutine while
// it is alone in the flight (see flight.body). ok is false when the body
// is not, or no longer, the leader's to read: it then reads the buffer
// the pump fills, from where it stands.
func (r *reader) readInline(p []byte) (n int, ok bool, err error) {
	m, f := r.m, r.m.f
	f.readMu.Lock()
	f.mu.Lock()
	if !f.inline {
		f.mu.Unlock()
		f.readMu.Unlock()
		return 0, false, nil
	}
	if m.left || f.attached > 1 {
		left, cut := m.left, m.cut
		f.mu.Unlock()
		f.readMu.Unlock()
		f.handOver()
		if !left {
			return 0, false, nil
		}
		if cut != nil {
			return 0, true, cut
		}
		return 0, true, context.Canceled
	}
	body := f.body
	f.mu.Unlock()
	n, err = body.Read(p)
	if err == nil && f.complete(n) {
		err = io.EOF
	}
	if n > 0 {
		// The last bytes come with io.EOF: shown after the entry is
		// stored (see pump).
		f.append(p[:n], err == io.EOF)
		f.mu.Lock()
		m.pos += int64(n)
		f.mu.Unlock()
	}
	if err == nil {
		f.readMu.Unlock()
		return n, true, nil
	}
	f.takeBody()
	f.readMu.Unlock()
	body.Close()
	if err == io.EOF {
		f.finish(nil)
		f.mu.Lock()
		m.ended = true
		f.mu.Unlock()
		return n, true, io.EOF
	}
	f.finish(err)
	return n, true, err
}

// complete reports whether n more bytes make the whole declared body.
func (f *flight) complete(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return n > 0 && f.length >= 0 && f.size+int64(n) == f.length
}

// declaredLength is h's Content-Length, or -1.
func declaredLength(h http.Header) int64 {
	n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// handOver passes the body the leader was reading inline to a pump for
// the members still attached, or closes it when none is. Only the
// leader's goroutine calls it.
func (f *flight) handOver() {
	body, others := f.takeBody()
	switch {
	case body == nil:
	case others:
		go f.pump(body)
	default:
		body.Close()
		f.finish(context.Canceled) // as the pump would on its cancelled read
	}
}

package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of StreamOptions.
const (
	DefaultStreamSize         = 1024
	DefaultHeartbeat          = 15 * time.Second
	DefaultStreamWriteTimeout = 10 * time.Second
	// streamBatch bounds the events written between two flushes.
	streamBatch = 256
)

// StreamOptions configure a Stream. Zero values take the defaults.
type StreamOptions struct {
	// Size is how many of the latest events are kept, for readers that
	// resume with Last-Event-ID and for readers that fall behind; a reader
	// further behind than that gets a gap event. 0 means DefaultStreamSize.
	Size int
	// Heartbeat is how often an idle stream gets a ": heartbeat" comment,
	// so that readers (and NATs, and proxies) see it is alive. 0 means
	// DefaultHeartbeat.
	Heartbeat time.Duration
	// WriteTimeout drops a reader that takes no bytes for this long (its
	// socket buffer is full), so that it holds no goroutine for ever. 0
	// means DefaultStreamWriteTimeout.
	WriteTimeout time.Duration
}

// Stream keeps the latest events of a Bus, numbered, and serves them as
// server-sent events (GET /_ferry/events). The publisher never waits for a
// reader: events go into a ring, and each reader follows the ring at its
// own pace with its own cursor. A reader that falls more than Size events
// behind is sent a gap event and continues from the oldest event kept.
//
// Event ids are "<run>-<n>": run names this run of the core, n counts from
// 1. A reader that reconnects with Last-Event-ID gets every event after it
// that is still kept, or a gap event when they are not (or when the id is
// from another run).
type Stream struct {
	opts  StreamOptions
	run   string
	untap func()

	mu     sync.Mutex
	ring   []frame // frame n at ring[n % len(ring)]
	last   uint64  // the newest frame's n, 0 before the first
	wake   chan struct{}
	closed bool
}

type frame struct {
	n    uint64
	name Kind
	ev   Event  // as published: events are immutable once published
	data []byte // ev encoded, by the first reader that sends it; readers share it
}

// NewStream starts keeping bus's events. Close stops it and ends the
// readers' streams.
func NewStream(bus *Bus, opts StreamOptions) *Stream {
	if opts.Size <= 0 {
		opts.Size = DefaultStreamSize
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultStreamWriteTimeout
	}
	s := &Stream{
		opts: opts,
		run:  strconv.FormatInt(time.Now().UnixNano(), 36),
		ring: make([]frame, opts.Size),
		wake: make(chan struct{}),
	}
	s.untap = bus.Tap(s.append)
	return s
}

// append is the Bus tap: it runs inside Publish, on every request, so it
// only stores. The JSON is written when a reader first sends the event:
// most of the time none is connected (no window open), and encoding each
// finished request cost about 8 µs of the request's CPU (bench.sh profile).
func (s *Stream) append(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.last++
	s.ring[s.last%uint64(len(s.ring))] = frame{n: s.last, name: e.Kind, ev: e}
	close(s.wake)
	s.wake = make(chan struct{})
}

// Close stops following the bus and ends every reader's stream after what
// it has already been given. Safe to call more than once.
func (s *Stream) Close() {
	s.untap()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.wake)
	}
}

// since returns the frames after cursor (at most streamBatch), how many
// frames after cursor are no longer kept (skipped: the first frame
// returned is then cursor+skipped+1), a channel closed at the next append,
// and whether the stream is closed.
func (s *Stream) since(cursor uint64) (frames []frame, skipped uint64, wake <-chan struct{}, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	size := uint64(len(s.ring))
	if s.last > size && cursor < s.last-size {
		skipped = s.last - size - cursor
		cursor = s.last - size
	}
	for n := cursor + 1; n <= s.last && len(frames) < streamBatch; n++ {
		f := &s.ring[n%size]
		if f.data == nil {
			data, err := Encode(f.ev)
			if err != nil {
				data = []byte("{}") // Encode fails only on a type JSON cannot hold; none exists in Event
			}
			f.data = data
		}
		frames = append(frames, *f)
	}
	return frames, skipped, s.wake, s.closed
}

// resume is where a reader starts: after the event lastID names when it is
// still kept. missed counts the events it will not get (-1 unknown).
func (s *Stream) resume(lastID string) (cursor uint64, missed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lastID == "" {
		return s.last, 0
	}
	run, num, ok := strings.Cut(lastID, "-")
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || run != s.run || n > s.last {
		return s.last, -1
	}
	return n, 0 // since reports what is no longer kept
}

func (s *Stream) id(n uint64) string { return s.run + "-" + strconv.FormatUint(n, 10) }

// ServeHTTP streams the events as text/event-stream until the reader goes,
// the stream closes, or a write stalls for WriteTimeout.
func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	cursor, missed := s.resume(r.Header.Get("Last-Event-ID"))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	buf.WriteString(": ferry events\n\n")
	if missed != 0 {
		s.writeGap(&buf, cursor, missed)
	}
	if !s.flush(w, rc, &buf) {
		return
	}
	heartbeat := time.NewTicker(s.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		frames, skipped, wake, closed := s.since(cursor)
		if skipped > 0 {
			cursor += skipped
			s.writeGap(&buf, cursor, int64(skipped))
		}
		for _, f := range frames {
			fmt.Fprintf(&buf, "id: %s\nevent: %s\ndata: %s\n\n", s.id(f.n), f.name, f.data)
			cursor = f.n
		}
		if buf.Len() > 0 {
			if !s.flush(w, rc, &buf) {
				return
			}
			heartbeat.Reset(s.opts.Heartbeat)
		}
		if len(frames) == streamBatch {
			continue // more are waiting
		}
		if closed {
			return
		}
		select {
		case <-wake:
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n\n")
		case <-r.Context().Done():
			return
		}
	}
}

// writeGap tells the reader that events up to cursor were left out; its id
// is cursor's so that a reconnect resumes after the gap.
func (s *Stream) writeGap(buf *bytes.Buffer, cursor uint64, missed int64) {
	data, _ := json.Marshal(Wire{Time: time.Now(), Missed: missed})
	fmt.Fprintf(buf, "id: %s\nevent: %s\ndata: %s\n\n", s.id(cursor), Gap, data)
}

// flush writes buf with a deadline and flushes; false means the reader is
// gone or stalled and the stream ends.
func (s *Stream) flush(w http.ResponseWriter, rc *http.ResponseController, buf *bytes.Buffer) bool {
	if err := rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return false
	}
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err == nil {
		err = rc.Flush()
	}
	return err == nil
}

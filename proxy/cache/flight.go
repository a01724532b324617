package cache

import (
	"context"
	"io"
	"net/http"
	"sync"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/storage"
)

// A flight is one upstream call shared by identical requests in flight:
// Claude Code re-sends a request it timed out on while the first is still
// running, and each copy used to be paid for. The first request (the
// leader) makes the call with its attempts detached from its client
// (Outgoing.Detach); a pump goroutine reads the upstream body into the
// flight's buffer, and every client, leader included, reads the buffer
// through its own member at its own pace.
//
// Bounds: the buffer holds the answer so far up to max_entry_bytes (so a
// late joiner gets it from the first byte); past that, nobody joins any
// more and the buffer keeps only what the slowest attached client has not
// read. Past max_entry_bytes, a client more than backlogCap behind while
// another keeps up is cut (the relay repairs its stream and sends an
// error frame), so one slow client never holds the others or grows memory
// without bound; when no client keeps up (one client, slower than the
// upstream), the pump waits for the fastest, as a plain relay would. A client that leaves doesn't
// cancel the call; the last one leaving does.

// backlogCap is how far a client may fall behind the shared answer.
const backlogCap = 1 << 20

// trimStep is the least the buffer is trimmed by at once, so a long
// answer past max_entry_bytes isn't copied on every read.
const trimStep = 256 << 10

type flightState uint8

const (
	waiting flightState = iota // the leader's call has no response yet
	started                    // headers came; the body is being pumped
	failed                     // the leader got no response: the others go alone
)

// role is what a member's record says when it is accounted.
type role uint8

const (
	roleNone  role = iota // not decided: the record stays as the meter made it
	rolePayer             // the first client still attached at the end: the call's real cost
	roleSaver             // shared the answer: what the meter priced was saved
	roleLeft              // left (or was cut) while others stayed
)

type flight struct {
	c      *Cache
	key    string
	kind   kind
	cred   string
	fill   bool // store the answer if it is useful
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	state    flightState
	status   int
	header   http.Header
	buf      []byte // the answer from offset base on
	base     int64
	size     int64 // bytes received
	done     bool
	err      error // why the body ended early; nil at a clean end
	joinable bool
	members  []*member
	attached int
	// room wakes the pump waiting for a client to catch up.
	room chan struct{}
	// body is the upstream body while the leader's relay reads it itself
	// (inline): as long as the leader is alone in the flight, which is
	// nearly always, there is no pump goroutine and no hand-off per chunk.
	// Measured with scripts/bench.sh's recording phase (FERRY_BENCH_SET=
	// cache.enabled=off against on): the pump's hand-offs were about half
	// of the cache's 50–70 µs on a request's latency. The body passes to
	// a pump as soon as someone joins, or when the leader leaves while
	// others stay; only the leader's goroutine hands it over.
	body   io.ReadCloser
	inline bool
	// length is the body's declared length (Content-Length), -1 when not
	// known: reaching it is the end, even when the reader (a filter's
	// bytes.Reader) only says so on the next read.
	length int64
	// readMu is held while the leader reads the body inline, so that a
	// takeover by a pump (someone joined: a leader whose client stopped
	// reading must not hold them) waits for that read to end.
	readMu sync.Mutex
}

// member is one client of a flight.
type member struct {
	f      *flight
	ctx    context.Context // the client's request
	stop   func() bool     // stops watching ctx
	leader bool
	pos    int64
	left   bool  // stopped reading before the end: left, or cut
	cut    error // why it was cut
	ended  bool  // read to the end
	role   role
}

// errBehind cuts a client that fell too far behind.
var errBehind = &proxy.Error{Status: http.StatusInternalServerError, Type: proxy.TypeAPI, Class: storage.ClassFerry,
	Message: "this client fell more than 1 MB behind an answer shared with identical requests; Ferry cut it so it doesn't hold the others (retry, or send x-ferry-cache: bypass)"}

// join makes out a member of the flight for its key: a follower of a
// joinable one in flight, or the leader of a new one. It returns nil
// when a flight exists that can't be joined any more (past
// max_entry_bytes): the request goes upstream on its own.
func (c *Cache) join(ctx context.Context, out *proxy.Outgoing, k kind, fill bool) (*flight, *member) {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if f := c.flights[out.Key]; f != nil {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.joinable {
			return nil, nil
		}
		return f, f.addLocked(ctx, false)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	f := &flight{c: c, key: out.Key, kind: k, cred: c.credTag(out), fill: fill, ctx: fctx, cancel: cancel,
		changed: make(chan struct{}), room: make(chan struct{}, 1), joinable: true}
	c.flights[out.Key] = f
	return f, f.addLocked(ctx, true)
}

func (f *flight) addLocked(ctx context.Context, leader bool) *member {
	m := &member{f: f, ctx: ctx, leader: leader}
	// A client that goes away leaves, wherever its request is: waiting
	// for the leader's headers, in the relay, or (the leader) in its
	// attempts, which run detached from it.
	m.stop = context.AfterFunc(ctx, m.leave)
	f.members = append(f.members, m)
	f.attached++
	if f.inline {
		// A second client: a pump reads from now on, at the fastest
		// client's pace, whatever the leader's client does.
		go f.takeOver()
	}
	return m
}

func (f *flight) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// unregister takes the flight out of the map: later requests look it up
// in the store, or start their own.
func (f *flight) unregister() {
	f.c.fmu.Lock()
	if f.c.flights[f.key] == f {
		delete(f.c.flights, f.key)
	}
	f.c.fmu.Unlock()
}

// waitHead waits for the leader's response headers. ok is false when the
// leader got none (the follower then goes upstream on its own); err is
// set when the follower's own client left meanwhile.
func (m *member) waitHead() (ok bool, err error) {
	f := m.f
	for {
		f.mu.Lock()
		st, ch := f.state, f.changed
		f.mu.Unlock()
		switch st {
		case started:
			return true, nil
		case failed:
			m.leave()
			return false, nil
		}
		select {
		case <-ch:
		case <-m.ctx.Done():
			m.leave()
			return false, context.Cause(m.ctx)
		}
	}
}

// start takes the leader's response (its response hook): the headers for
// every member, the body for the pump.
func (f *flight) start(res *proxy.Response) {
	f.mu.Lock()
	f.status = res.Status
	if f.status == 0 {
		f.status = http.StatusOK
	}
	f.header = res.Header.Clone()
	f.length = declaredLength(res.Header)
	f.state = started
	alone := f.attached == 1 && f.members[0].leader && !f.members[0].left
	if alone {
		f.body, f.inline = res.Body, true
	}
	f.notifyLocked()
	f.mu.Unlock()
	if !alone {
		go f.pump(res.Body)
	}
}

// fail ends a flight whose leader got no response (a road failure, a
// refusal by a later stage): the waiting members go upstream themselves.
func (f *flight) fail() {
	f.mu.Lock()
	if f.state != waiting {
		f.mu.Unlock()
		return
	}
	f.state, f.joinable = failed, false
	f.notifyLocked()
	f.mu.Unlock()
	f.unregister()
	f.cancel()
}

// pump reads the upstream body into the buffer until its end; it is the
// flight's only goroutine and ends with the body (the last member
// leaving cancels the call, which ends the read).
func (f *flight) pump(body io.ReadCloser) {
	defer body.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			// The last bytes of a body with a Content-Length come with
			// io.EOF (net/http returns them together): they are shown to
			// the members by finish, after the entry is stored. Shown
			// here, a client could read its whole answer, send it again
			// and miss (seen under -race in CI).
			if err == nil && f.complete(n) {
				err = io.EOF
			}
			if f.append(buf[:n], err == io.EOF) {
				f.abandon() // every client was cut
			}
			f.waitRoom()
		}
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			f.finish(err)
			return
		}
	}
}

// append adds what the upstream sent, cuts the clients too far behind and
// reports whether none is left attached. The members see the bytes now,
// or, when they are the last (quiet), when finish ends the flight.
func (f *flight) append(p []byte, quiet bool) (abandoned bool) {
	maxEntry := f.c.store.MaxEntryBytes()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	f.size += int64(len(p))
	cancel := false
	// Up to max_entry_bytes the buffer is kept for late joiners anyway, so
	// a client behind costs nothing more; past it, what a client hasn't
	// read is kept for it alone.
	if f.size > maxEntry && f.backlogLocked() <= backlogCap {
		// Someone keeps up: those too far behind would hold it.
		for _, m := range f.members {
			if !m.left && !m.ended && f.size-m.pos > backlogCap {
				m.cut = errBehind
				cancel = f.detachLocked(m) || cancel
			}
		}
	}
	if f.size > maxEntry {
		// Too large to store or to give a late joiner from its start.
		f.joinable = false
		low := f.size
		for _, m := range f.members {
			if !m.left && !m.ended {
				low = min(low, m.pos)
			}
		}
		if low-f.base >= trimStep {
			f.buf = append([]byte(nil), f.buf[low-f.base:]...)
			f.base = low
		}
	}
	if !quiet {
		f.notifyLocked()
	}
	return cancel
}

// backlogLocked is how far the fastest attached client is behind.
func (f *flight) backlogLocked() int64 {
	least := int64(-1)
	for _, m := range f.members {
		if !m.left && !m.ended && (least < 0 || f.size-m.pos < least) {
			least = f.size - m.pos
		}
	}
	return max(least, 0)
}

// waitRoom holds the pump while every attached client is more than
// backlogCap behind: the upstream then waits for its fastest reader, and
// the buffer stops growing.
func (f *flight) waitRoom() {
	maxEntry := f.c.store.MaxEntryBytes()
	for {
		f.mu.Lock()
		full := f.attached > 0 && f.size > maxEntry && f.backlogLocked() > backlogCap
		f.mu.Unlock()
		if !full {
			return
		}
		select {
		case <-f.room:
		case <-f.ctx.Done():
			return
		}
	}
}

// detachLocked records that m stopped reading before the end and reports
// whether it was the last one attached, which cancels the call.
func (f *flight) detachLocked(m *member) (last bool) {
	if m.left || m.ended {
		return false
	}
	m.left = true
	f.attached--
	if f.done {
		return false // its role was settled at the end
	}
	if f.attached > 0 {
		m.role = roleLeft
		return false
	}
	// The last one: the call is cancelled, and what it cost so far is
	// this client's.
	m.role = rolePayer
	f.joinable = false
	return true
}

// abandon cancels the call nobody reads any more.
func (f *flight) abandon() {
	f.unregister()
	f.cancel()
}

// finish ends the flight: a complete, useful answer is stored, then the
// roles are settled and the members see the end. Stored first, so that
// a client that saw its answer end and sends it again gets a hit (a
// script re-running a prompt), and before the flight leaves the map, so
// an identical request arriving now finds one or the other.
func (f *flight) finish(err error) {
	f.mu.Lock()
	store := err == nil && f.fill && f.base == 0 && f.size <= f.c.store.MaxEntryBytes()
	status, header, body := f.status, f.header, f.buf
	f.mu.Unlock()
	if store {
		// Put only queues the write: the members wait for useful's
		// check of the bytes, not for the disk.
		f.c.fill(f.key, f.cred, f.kind, headOf(status, header), body)
	}
	f.mu.Lock()
	f.done, f.err = true, err
	payer := false
	for _, m := range f.members {
		if m.left {
			continue
		}
		if !payer {
			m.role, payer = rolePayer, true
		} else {
			m.role = roleSaver
		}
	}
	f.joinable = false
	f.notifyLocked()
	f.mu.Unlock()
	f.unregister()
	f.cancel()
}

// reader is a member's view of the shared body.
type reader struct{ m *member }

func (r *reader) Read(p []byte) (int, error) {
	m := r.m
	f := m.f
	if m.leader {
		if n, ok, err := r.readInline(p); ok {
			return n, err
		}
	}
	for {
		f.mu.Lock()
		if m.cut != nil {
			f.mu.Unlock()
			return 0, m.cut
		}
		if m.left {
			f.mu.Unlock()
			return 0, context.Canceled
		}
		if avail := f.size - m.pos; avail > 0 {
			n := copy(p, f.buf[m.pos-f.base:])
			m.pos += int64(n)
			f.mu.Unlock()
			select {
			case f.room <- struct{}{}:
			default:
			}
			return n, nil
		}
		if f.done {
			m.ended = true
			err := f.err
			f.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-m.ctx.Done():
			m.leave()
			return 0, context.Cause(m.ctx)
		}
	}
}

// Close is the relay's end with this member: one that had not read to
// the end leaves, and a leader reading inline hands the body over.
func (r *reader) Close() error {
	r.m.stop()
	r.m.leave()
	if r.m.leader {
		r.m.f.handOver()
	}
	return nil
}

func (m *member) leave() {
	f := m.f
	f.mu.Lock()
	last := f.detachLocked(m)
	f.notifyLocked()
	f.mu.Unlock()
	select {
	case f.room <- struct{}{}: // the pump may have waited for this one
	default:
	}
	if last {
		f.abandon()
	}
}

// role returns the member's role once its request is accounted.
func (m *member) settled() role {
	m.f.mu.Lock()
	defer m.f.mu.Unlock()
	return m.role
}

// shared reports whether more than one client took part.
func (f *flight) shared() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.members) > 1
}

package brake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/storage"
)

// Config is the brake's settings.
type Config struct {
	// Enabled turns the brake on (brake.enabled, default on).
	Enabled bool `json:"enabled"`
	// Repeats is how many equal calls, or successes of one request, make
	// a loop (brake.repeats).
	Repeats int `json:"repeats"`
	// WindowSeconds is the window the repeats of one request are counted
	// in (brake.window).
	WindowSeconds int `json:"window_seconds"`
}

// Defaults.
const (
	DefaultRepeats = 8
	DefaultWindow  = 10 * time.Minute
	// ReleaseFor is how long "Release brake" lifts it for a session.
	ReleaseFor = time.Hour
)

// DefaultConfig is the brake out of the box.
func DefaultConfig() Config {
	return Config{Enabled: true, Repeats: DefaultRepeats, WindowSeconds: int(DefaultWindow / time.Second)}
}

// ErrBadConfig is a brake setting that cannot be used.
var ErrBadConfig = errors.New("bad brake setting")

// Validate checks c's ranges.
func (c Config) Validate() error {
	if c.Repeats < 2 || c.Repeats > 1000 {
		return fmt.Errorf("repeats %d: between 2 and 1000: %w", c.Repeats, ErrBadConfig)
	}
	if c.WindowSeconds < 1 || c.WindowSeconds > 86400 {
		return fmt.Errorf("window_seconds %d: between 1 and 86400: %w", c.WindowSeconds, ErrBadConfig)
	}
	return nil
}

// Options configure New.
type Options struct {
	Config  Config             // the zero Config means DefaultConfig
	Publish func(events.Event) // brake.* events; nil drops them
	Logger  *slog.Logger       // nil discards
	Now     func() time.Time   // nil: time.Now
}

// Brake watches sessions for loops. It is safe for concurrent use.
type Brake struct {
	o   Options
	cfg atomic.Pointer[Config]

	mu       sync.Mutex
	sessions map[string]*session

	loops, repeats atomic.Uint64 // requests refused, by reason, since start
}

// Refusals returns how many requests the brake refused since start, by
// reason ("tool_loop", "repeated_request").
func (b *Brake) Refusals() map[string]uint64 {
	return map[string]uint64{"tool_loop": b.loops.Load(), "repeated_request": b.repeats.Load()}
}

// session is what the brake keeps of one Claude Code session.
type session struct {
	seen     time.Time
	requests map[string][]time.Time // request key → successes within the window
	released time.Time              // braking lifted until then
	fired    *Fired
}

// Fired is the brake's last stop of a session.
type Fired struct {
	Session  string    `json:"session"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"` // "tool_loop" or "repeated_request"
	Tool     string    `json:"tool,omitempty"`
	Repeats  int       `json:"repeats"`
	Released time.Time `json:"released_until,omitzero"`
}

// Bounds on what the brake keeps.
const (
	maxSessions    = 1024
	maxKeysPerSess = 256
	maxToolName    = 64
	noSession      = "-" // requests without X-Claude-Code-Session-Id
)

// New returns a brake with o.Config (checked).
func New(o Options) (*Brake, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Config == (Config{}) {
		o.Config = DefaultConfig()
	}
	b := &Brake{o: o, sessions: map[string]*session{}}
	if err := b.Apply(o.Config); err != nil {
		return nil, err
	}
	return b, nil
}

// Config returns the settings in force.
func (b *Brake) Config() Config { return *b.cfg.Load() }

// Apply replaces the settings (the registry's watchers call it when a
// brake.* knob changes).
func (b *Brake) Apply(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	b.cfg.Store(&c)
	return nil
}

// Stage is the brake's place in the pipeline.
func (b *Brake) Stage() proxy.Stage {
	return proxy.Stage{Phase: proxy.PhaseBrake, Name: "brake", Run: b.run}
}

func (b *Brake) run(_ context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
	c := b.cfg.Load()
	if !c.Enabled || out.Method != http.MethodPost || strings.TrimSuffix(out.Path, "/") != "/v1/messages" {
		return nil, nil
	}
	if strings.EqualFold(out.Ferry.Get("X-Ferry-Brake"), "off") {
		return nil, nil
	}
	id := out.Session
	if id == "" {
		id = noSession
	}
	now := b.o.Now()
	window := time.Duration(c.WindowSeconds) * time.Second
	if b.released(id, now) {
		return nil, nil
	}
	if tool, loop := Loop(out.Body, c.Repeats); loop {
		return nil, b.fire(id, "tool_loop", tool, c.Repeats, now)
	}
	if key := out.Key; key != "" {
		if b.repeatedRequest(id, key, c.Repeats, window, now) {
			return nil, b.fire(id, "repeated_request", "", c.Repeats, now)
		}
		out.Annotate(func(rec *storage.Record) {
			if rec.Status >= 200 && rec.Status < 300 {
				b.succeeded(id, key, window, b.o.Now())
			}
		})
	}
	return nil, nil
}

// get returns a session's state, making it. Call with mu held.
func (b *Brake) get(id string, now time.Time) *session {
	s := b.sessions[id]
	if s == nil {
		if len(b.sessions) >= maxSessions {
			oldest := ""
			for k, v := range b.sessions {
				if oldest == "" || v.seen.Before(b.sessions[oldest].seen) {
					oldest = k
				}
			}
			delete(b.sessions, oldest)
		}
		s = &session{requests: map[string][]time.Time{}}
		b.sessions[id] = s
	}
	s.seen = now
	return s
}

func (b *Brake) released(id string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[id]
	return s != nil && s.released.After(now)
}

// repeatedRequest reports whether key succeeded repeats times within the
// window before now.
func (b *Brake) repeatedRequest(id, key string, repeats int, window time.Duration, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sessions[id]
	if s == nil {
		return false
	}
	ts := prune(s.requests[key], now.Add(-window))
	s.requests[key] = ts
	return len(ts) >= repeats
}

func (b *Brake) succeeded(id, key string, window time.Duration, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.get(id, now)
	ts := prune(s.requests[key], now.Add(-window))
	if ts == nil && len(s.requests) >= maxKeysPerSess {
		s.makeRoom(now.Add(-window))
	}
	s.requests[key] = append(ts, now)
}

// makeRoom drops the keys with nothing inside the window, then, if the
// session is still full, the older half by last success. A Claude Code
// session sends a new request every turn, so its keys fill up within the
// window: refusing new keys then (as before) left the brake blind to a
// loop that began after the 256th request, and scanned the full map on
// every request. A key that is looping is among the newest, so it stays.
// Call with mu held.
func (s *session) makeRoom(from time.Time) {
	for k, v := range s.requests {
		if len(prune(v, from)) == 0 {
			delete(s.requests, k)
		}
	}
	if len(s.requests) < maxKeysPerSess {
		return
	}
	type last struct {
		key string
		at  time.Time
	}
	all := make([]last, 0, len(s.requests))
	for k, v := range s.requests {
		all = append(all, last{k, v[len(v)-1]})
	}
	slices.SortFunc(all, func(a, b last) int { return a.at.Compare(b.at) })
	for _, l := range all[:len(all)/2] {
		delete(s.requests, l.key)
	}
}

// prune drops the times before from.
func prune(ts []time.Time, from time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(from) {
		i++
	}
	if i == len(ts) {
		return nil
	}
	return ts[i:]
}

// fire records a stop, announces it (once per stop, not per refused
// request) and returns the refusal.
func (b *Brake) fire(id, reason, tool string, repeats int, now time.Time) *proxy.Error {
	if reason == "tool_loop" {
		b.loops.Add(1)
	} else {
		b.repeats.Add(1)
	}
	if len(tool) > maxToolName {
		tool = strings.ToValidUTF8(tool[:maxToolName], "")
	}
	b.mu.Lock()
	s := b.get(id, now)
	announce := s.fired == nil || now.Sub(s.fired.At) > time.Minute
	s.fired = &Fired{Session: id, At: now, Reason: reason, Tool: tool, Repeats: repeats}
	b.mu.Unlock()

	var what string
	if reason == "tool_loop" {
		what = fmt.Sprintf("the last %d tool calls of this session were the same call (%s, same input) with the same result", repeats, tool)
	} else {
		what = fmt.Sprintf("this same request was sent and answered %d times within the brake window", repeats)
	}
	if announce {
		b.o.Logger.Warn("runaway brake: "+what, "session", id)
		if b.o.Publish != nil {
			b.o.Publish(events.Event{Kind: events.BrakeFired, Time: now, Detail: "runaway brake: " + what,
				Attrs: map[string]string{"session": id, "reason": reason, "repeats": strconv.Itoa(repeats), "tool": tool}})
		}
	}
	return &proxy.Error{
		Status: http.StatusBadRequest, Type: proxy.TypeInvalidRequest, Class: storage.ClassFerry,
		Message: "Ferry's runaway brake stopped this request: " + what + "; the agent looks stuck in a loop. " +
			"To go on: send the request with the header `x-ferry-brake: off`, choose \"Release brake\" in the tray " +
			"(this session, one hour), or run `ferry brake release " + id + "`.",
	}
}

// Release lifts the brake for a session for d, recorded and announced.
func (b *Brake) Release(id string, d time.Duration, by string) (time.Time, error) {
	if id == "" || len(id) > storage.MaxSessionLen {
		return time.Time{}, fmt.Errorf("session %q: %w", id, ErrBadConfig)
	}
	if d <= 0 || d > 24*time.Hour {
		return time.Time{}, fmt.Errorf("release for %v: between a second and 24h: %w", d, ErrBadConfig)
	}
	now := b.o.Now()
	until := now.Add(d)
	b.mu.Lock()
	s := b.get(id, now)
	s.released = until
	s.requests = map[string][]time.Time{} // the repeats so far are forgiven
	if s.fired != nil {
		s.fired.Released = until
	}
	b.mu.Unlock()
	b.o.Logger.Warn("runaway brake released", "session", id, "until", until, "by", by)
	if b.o.Publish != nil {
		b.o.Publish(events.Event{Kind: events.BrakeReleased, Time: now, Detail: "runaway brake released for session " + id,
			Attrs: map[string]string{"session": id, "until": until.Format(time.RFC3339), "by": by}})
	}
	return until, nil
}

// List returns the sessions the brake stopped, most recent first.
func (b *Brake) List() []Fired {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Fired
	for _, s := range b.sessions {
		if s.fired != nil {
			out = append(out, *s.fired)
		}
	}
	slices.SortFunc(out, func(x, y Fired) int { return y.At.Compare(x.At) })
	return out
}

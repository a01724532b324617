package route

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Warm connections (issue 9, road.keep_warm): for the route serving now
// and the next failover candidate, Ferry keeps one connection to the API
// host open ahead of need: TCP, the proxy handshake, TLS with ALPN and the
// HTTP/2 preface are paid in the background, not by the first request
// after a start or a long idle (three to four round trips through a proxy
// abroad). net/http cannot take a pre-dialled connection into a
// Transport's pool; Transport.NewClientConn (Go 1.26) gives one outside
// the pool that Ferry holds, uses, and re-dials when it dies.

const (
	warmRetryMin = time.Second
	warmRetryMax = 30 * time.Second
)

// warmConn is an Upstream's warm connection and the goroutine keeping it.
type warmConn struct {
	u *Upstream
	t *http.Transport // the route's Transport without an idle timeout

	mu      sync.Mutex
	cc      *http.ClientConn // nil when none is ready
	cancel  context.CancelFunc
	running sync.WaitGroup // every goroutine started, including stopped ones still ending
	kick    chan struct{}  // made once, never replaced
	// redialWanted asks the goroutine to replace a live connection.
	redialWanted bool
}

// KeepWarm starts keeping a connection to target warm until ctx ends or
// StopWarm; a second call while running does nothing.
func (u *Upstream) KeepWarm(ctx context.Context, target *url.URL) {
	w := u.warm
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel != nil || target == nil {
		return
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.running.Go(func() { w.run(ctx, target.Scheme, hostPort(target)) })
}

// StopWarm closes the warm connection (requests on it finish first) and
// waits for its goroutine to end.
func (u *Upstream) StopWarm() {
	u.stopWarm()
	u.warm.running.Wait()
}

// stopWarm asks the goroutine to end without waiting (the Manager calls
// it holding its lock, which a dial's learning may need).
func (u *Upstream) stopWarm() {
	w := u.warm
	w.mu.Lock()
	cancel := w.cancel
	w.cancel = nil
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (u *Upstream) warming() bool {
	w := u.warm
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cancel != nil
}

// Warm reports whether a warm connection is ready now.
func (u *Upstream) Warm() bool {
	w := u.warm
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cc != nil && w.cc.Err() == nil
}

func (w *warmConn) run(ctx context.Context, scheme, addr string) {
	wait := warmRetryMin
	for {
		cc, err := w.t.NewClientConn(ctx, scheme, addr)
		if err == nil {
			wait = warmRetryMin
			w.set(cc)
			cc.SetStateHook(func(cc *http.ClientConn) {
				if cc.Err() != nil {
					w.poke()
				}
			})
			w.waitDead(ctx, cc)
			w.drop(cc)
			if ctx.Err() != nil {
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		w.u.logger.Debug("warm connection failed; retrying", "route", w.u.Route.Name, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-w.kick:
			t.Stop()
		}
		wait = min(wait*2, warmRetryMax)
	}
}

// waitDead returns when cc stops being usable, when the route asks for a
// new one (it learnt HTTP/1.1), or when ctx ends.
func (w *warmConn) waitDead(ctx context.Context, cc *http.ClientConn) {
	for cc.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
			if w.replace() {
				return
			}
		}
	}
}

func (w *warmConn) set(cc *http.ClientConn) {
	w.mu.Lock()
	w.cc = cc
	w.mu.Unlock()
}

// drop forgets cc and closes it; requests on it are not cut (an HTTP/2
// connection closes after its streams end).
func (w *warmConn) drop(cc *http.ClientConn) {
	w.mu.Lock()
	if w.cc == cc {
		w.cc = nil
	}
	w.mu.Unlock()
	cc.Close()
}

// replace reports (and clears) a redial request.
func (w *warmConn) replace() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.redialWanted
	w.redialWanted = false
	return r
}

func (w *warmConn) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// redial replaces the warm connection with a new one (the route learnt
// something its handshake must change).
func (w *warmConn) redial() {
	w.mu.Lock()
	w.redialWanted = true
	w.mu.Unlock()
	w.poke()
}

// roundTrip sends req on the warm connection if it is ready and has room;
// (nil, nil) means "use the pool".
func (w *warmConn) roundTrip(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	cc := w.cc
	w.mu.Unlock()
	if cc == nil || cc.Reserve() != nil {
		return nil, nil
	}
	return cc.RoundTrip(req)
}

// SetKeepWarm turns road.keep_warm on or off for this run.
func (m *Manager) SetKeepWarm(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.noWarm = !on
	m.updateWarm()
}

// updateWarm keeps the route serving new accounts and the next failover
// candidate warm, and lets every other route's warm connection go. Warm
// connections live while Run does. m.mu is held.
func (m *Manager) updateWarm() {
	want := map[*Upstream]bool{}
	if !m.noWarm && m.runCtx != nil && m.runCtx.Err() == nil {
		c := m.candidatesLocked("", "")
		for i := 0; i < len(c) && i < 2; i++ {
			want[c[i]] = true
		}
	}
	for _, e := range m.entries {
		switch {
		case e.up == nil:
		case want[e.up]:
			e.up.KeepWarm(m.runCtx, m.o.Target)
		case e.up.warming():
			e.up.stopWarm()
		}
	}
}

// stopAllWarm ends every warm connection's goroutine, when Run ends.
func (m *Manager) stopAllWarm() {
	m.mu.Lock()
	ups := make([]*Upstream, 0, len(m.entries))
	for _, e := range m.entries {
		if e.up != nil {
			ups = append(ups, e.up)
		}
	}
	m.mu.Unlock()
	for _, u := range ups {
		u.StopWarm()
	}
}

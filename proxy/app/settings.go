package app

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/settings"
	"github.com/ferry-gateway/ferry/storage"
)

// openSettings opens the settings registry over db with every knob,
// applies this run's overrides (cfg's typed knob fields, then
// cfg.Overrides; never stored) and fills cfg's knob fields with the values
// in effect, for the parts built from cfg.
func openSettings(db *storage.DB, bus *events.Bus, cfg *Config) (*settings.Registry, error) {
	reg := settings.New(db, bus)
	const thisRun = "this run"
	typed := []struct {
		key, text string
		set       bool
	}{
		{KeyListen, cfg.Listen, cfg.Listen != ""},
		{KeyAPIBase, cfg.APIBase, cfg.APIBase != ""},
		{KeyConnectTimeout, cfg.ConnectTimeout.String(), cfg.ConnectTimeout != 0},
		{KeyFirstByteTimeout, cfg.FirstByteTimeout.String(), cfg.FirstByteTimeout != 0},
		{KeyIdleTimeout, cfg.IdleTimeout.String(), cfg.IdleTimeout != 0},
		{KeyMaxBody, strconv.FormatInt(cfg.MaxBody, 10), cfg.MaxBody != 0},
		{KeyRetention, max(cfg.Retention, 0).String(), cfg.Retention != 0},
	}
	if cfg.StoreBodies != nil {
		typed = append(typed, struct {
			key, text string
			set       bool
		}{KeyStoreBodies, strconv.FormatBool(*cfg.StoreBodies), true})
	}
	for _, t := range typed {
		if t.set {
			if err := reg.Override(t.key, t.text, thisRun); err != nil {
				return nil, err
			}
		}
	}
	for _, o := range cfg.Overrides {
		if err := reg.Override(o.Key, o.Text, o.From); err != nil {
			return nil, err
		}
	}
	if err := reg.Register(Knobs()...); err != nil {
		return nil, err
	}
	if err := reg.Unregistered(); err != nil {
		return nil, err
	}
	cfg.Listen = reg.Value(KeyListen).String()
	cfg.APIBase = reg.Value(KeyAPIBase).String()
	cfg.ConnectTimeout = reg.Value(KeyConnectTimeout).Duration()
	cfg.FirstByteTimeout = reg.Value(KeyFirstByteTimeout).Duration()
	cfg.IdleTimeout = reg.Value(KeyIdleTimeout).Duration()
	cfg.MaxBody = reg.Value(KeyMaxBody).Bytes()
	return reg, nil
}

// maxStoredBody caps what one record keeps of each body when storing bodies
// is on: the history is for reading back, not an archive of 32 MB prompts.
const maxStoredBody = 1 << 20

// runtimeSettings are the knobs the proxy reads on every request, kept in
// atomics by the registry's watchers: a change applies to the next request.
type runtimeSettings struct {
	reg         *settings.Registry
	storeBodies atomic.Bool
}

func newRuntimeSettings(reg *settings.Registry) *runtimeSettings {
	rs := &runtimeSettings{reg: reg}
	rs.storeBodies.Store(reg.Value(KeyStoreBodies).Bool())
	reg.Watch(KeyStoreBodies, func(v settings.Value) { rs.storeBodies.Store(v.Bool()) })
	return rs
}

// Retention is how long usage history is kept; 0 keeps it forever. The
// retention loop asks again on every pass, so a change applies at once.
func (rs *runtimeSettings) Retention() time.Duration { return rs.reg.Value(KeyRetention).Duration() }

// StoreBodies says whether records keep prompt and answer bodies.
func (rs *runtimeSettings) StoreBodies() bool { return rs.storeBodies.Load() }

// observe wraps the usage observer so that, when storing bodies is on, the
// record also keeps the request and response bodies (capped).
func (rs *runtimeSettings) observe(next proxy.ObserverFactory) proxy.ObserverFactory {
	return func(r *http.Request, body []byte, start time.Time) proxy.Observer {
		o := next(r, body, start)
		if !rs.StoreBodies() {
			return o
		}
		return &bodyKeeper{Observer: o, req: capBytes(body)}
	}
}

type bodyKeeper struct {
	proxy.Observer
	req  []byte
	resp []byte
}

func (b *bodyKeeper) Write(p []byte) (int, error) {
	if room := maxStoredBody - len(b.resp); room > 0 {
		b.resp = append(b.resp, p[:min(room, len(p))]...)
	}
	return b.Observer.Write(p)
}

func (b *bodyKeeper) Done(rec *storage.Record) {
	b.Observer.Done(rec)
	rec.RequestBody, rec.ResponseBody = b.req, b.resp
}

func capBytes(p []byte) []byte {
	if p == nil {
		return nil
	}
	return append([]byte(nil), p[:min(len(p), maxStoredBody)]...)
}

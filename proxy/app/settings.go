package app

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/storage"
)

// Settings keys of the settings bucket that the server owns.
const (
	settingRetention   = "retention"    // duration string, e.g. "2160h0m0s"; "0s" keeps history forever
	settingStoreBodies = "store_bodies" // bool
	settingListen      = "listen"       // host:port used when --listen is not given
)

// maxStoredBody caps what one record keeps of each body when storing bodies
// is on: the history is for reading back, not an archive of 32 MB prompts.
const maxStoredBody = 1 << 20

// runtimeSettings are the settings that may change while Ferry runs (from
// the UI or the admin API); the proxy reads them on every request.
type runtimeSettings struct {
	db          *storage.DB
	retention   atomic.Int64 // time.Duration
	storeBodies atomic.Bool
}

// loadRuntimeSettings reads the stored settings; flags given on the command
// line win and are stored, so the next start (and the UI) sees them.
func loadRuntimeSettings(db *storage.DB, cfg Config) (*runtimeSettings, error) {
	rs := &runtimeSettings{db: db}
	ret := DefaultRetention
	var stored string
	if ok, err := db.GetSetting(settingRetention, &stored); err != nil {
		return nil, fmt.Errorf("read setting %s: %w", settingRetention, err)
	} else if ok {
		if d, err := time.ParseDuration(stored); err == nil && d >= 0 {
			ret = d
		}
	}
	if cfg.Retention != 0 {
		ret = max(cfg.Retention, 0)
		if err := db.PutSetting(settingRetention, ret.String()); err != nil {
			return nil, fmt.Errorf("store setting %s: %w", settingRetention, err)
		}
	}
	rs.retention.Store(int64(ret))
	var bodies bool
	if _, err := db.GetSetting(settingStoreBodies, &bodies); err != nil {
		return nil, fmt.Errorf("read setting %s: %w", settingStoreBodies, err)
	}
	if cfg.StoreBodies != nil {
		bodies = *cfg.StoreBodies
		if err := db.PutSetting(settingStoreBodies, bodies); err != nil {
			return nil, fmt.Errorf("store setting %s: %w", settingStoreBodies, err)
		}
	}
	rs.storeBodies.Store(bodies)
	return rs, nil
}

// Retention is how long usage history is kept; 0 keeps it forever.
func (rs *runtimeSettings) Retention() time.Duration { return time.Duration(rs.retention.Load()) }

// StoreBodies says whether records keep prompt and answer bodies.
func (rs *runtimeSettings) StoreBodies() bool { return rs.storeBodies.Load() }

func (rs *runtimeSettings) setRetention(d time.Duration) error {
	if d != 0 && d < time.Hour {
		return fmt.Errorf("retention %s is too short: keep at least an hour (or 0 to keep everything)", d)
	}
	if err := rs.db.PutSetting(settingRetention, d.String()); err != nil {
		return err
	}
	rs.retention.Store(int64(d))
	return nil
}

func (rs *runtimeSettings) setStoreBodies(on bool) error {
	if err := rs.db.PutSetting(settingStoreBodies, on); err != nil {
		return err
	}
	rs.storeBodies.Store(on)
	return nil
}

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

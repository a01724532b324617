package quota

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Window is one quota window as last reported.
type Window struct {
	Name        string    `json:"name"`        // "5h", "7d", "7d-sonnet", …
	Utilization float64   `json:"utilization"` // 0..1 (1: spent)
	Reset       time.Time `json:"reset,omitzero"`
	Status      string    `json:"status,omitempty"` // allowed, allowed_warning, rejected
}

// Account is the latest quota reading of one subscription account.
type Account struct {
	// Account is the anthropic-organization-id of the responses, or
	// "unknown" when they showed none.
	Account             string    `json:"account"`
	Status              string    `json:"status,omitempty"`
	RepresentativeClaim string    `json:"representative_claim,omitempty"`
	OverageStatus       string    `json:"overage_status,omitempty"`
	OverageUtilization  *float64  `json:"overage_utilization,omitempty"`
	Fallback            string    `json:"fallback,omitempty"`
	Windows             []Window  `json:"windows"`
	Seen                time.Time `json:"seen"`
}

// Window returns the window named n, if reported.
func (a Account) Window(n string) (Window, bool) {
	i := slices.IndexFunc(a.Windows, func(w Window) bool { return w.Name == n })
	if i < 0 {
		return Window{}, false
	}
	return a.Windows[i], true
}

const prefix = "anthropic-ratelimit-unified-"

// Bounds on what is kept of outside headers.
const (
	maxAccounts = 64
	maxWindows  = 16
	maxValue    = 64
)

// Settings is where the latest readings and the notifications made are
// kept across restarts (storage.DB implements it), so that `ferry quota`
// shows the last known quota with Ferry stopped and a restart repeats no
// notification.
type Settings interface {
	GetSetting(key string, into any) (found bool, err error)
	PutSetting(key string, v any) error
}

// SettingsKey holds the saved readings.
const SettingsKey = "quota"

// saveDelay gathers the readings of a burst of responses into one write,
// off the responses' path.
const saveDelay = 2 * time.Second

// saved is what SettingsKey holds.
type saved struct {
	Accounts []Account      `json:"accounts"`
	Alerted  map[string]int `json:"alerted,omitempty"`
}

// Options configure NewTracker.
type Options struct {
	Settings Settings           // nil: in memory only
	Publish  func(events.Event) // quota.alert events; nil drops them
	Logger   *slog.Logger       // nil discards
	Now      func() time.Time   // nil: time.Now
	// AfterFunc schedules the "window reset" notification; nil means
	// time.AfterFunc. Tests replace it.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// Tracker keeps the latest quota per account. It is safe for concurrent
// use; Close stops its timers.
type Tracker struct {
	o        Options
	mu       sync.Mutex
	accounts map[string]*Account
	alerted  map[string]int         // account/window/reset → level notified
	timers   map[string]func() bool // account/window → the reset notification's stop
	closed   bool
	saving   func() bool // the pending save's stop; nil when none
}

// NewTracker returns an empty tracker.
func NewTracker(o Options) *Tracker {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	t := &Tracker{o: o, accounts: map[string]*Account{}, alerted: map[string]int{}, timers: map[string]func() bool{}}
	if o.Settings != nil {
		var sv saved
		if _, err := o.Settings.GetSetting(SettingsKey, &sv); err != nil {
			o.Logger.Warn("saved quota unreadable; starting without it", "err", err)
		}
		for i := range sv.Accounts {
			if len(t.accounts) < maxAccounts && len(sv.Accounts[i].Windows) <= maxWindows {
				a := sv.Accounts[i]
				t.accounts[a.Account] = &a
			}
		}
		for k, v := range sv.Alerted {
			if len(t.alerted) < 4*maxAccounts {
				t.alerted[k] = v
			}
		}
	}
	return t
}

// saveLocked schedules a write of the readings, unless one is pending.
// Call with mu held.
func (t *Tracker) saveLocked() {
	if t.o.Settings == nil || t.saving != nil || t.closed {
		return
	}
	t.saving = t.o.AfterFunc(saveDelay, func() {
		t.mu.Lock()
		t.saving = nil
		t.mu.Unlock()
		t.save()
	})
}

// save writes the readings now.
func (t *Tracker) save() {
	if t.o.Settings == nil {
		return
	}
	t.mu.Lock()
	sv := saved{Alerted: maps.Clone(t.alerted)}
	for _, a := range t.accounts {
		c := *a
		c.Windows = slices.Clone(a.Windows)
		sv.Accounts = append(sv.Accounts, c)
	}
	t.mu.Unlock()
	if err := t.o.Settings.PutSetting(SettingsKey, sv); err != nil {
		t.o.Logger.Warn("quota not saved", "err", err)
	}
}

// Close stops the pending reset notifications and writes the readings
// (call it before the database closes).
func (t *Tracker) Close() {
	t.mu.Lock()
	t.closed = true
	for k, stop := range t.timers {
		stop()
		delete(t.timers, k)
	}
	pending := t.saving != nil
	if pending {
		t.saving()
		t.saving = nil
	}
	t.mu.Unlock()
	if pending {
		t.save()
	}
}

// has reports cheaply whether h carries any unified quota header: most
// responses (API keys) carry none.
func has(h http.Header) bool {
	for k := range h {
		if len(k) > len(prefix) && strings.EqualFold(k[:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxValue {
		s = s[:maxValue]
	}
	// Well-formed whatever its length: it is shown, logged and sent on
	// the event stream (FuzzParse found a 64-byte value kept with a stray
	// byte).
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	return s
}

// Parse reads the quota headers of one response; ok is false when it has
// none.
func Parse(h http.Header, account string, now time.Time) (a Account, ok bool) {
	if !has(h) {
		return Account{}, false
	}
	a = Account{Account: account, Seen: now}
	windows := map[string]*Window{}
	for k, vs := range h {
		if len(k) <= len(prefix) || !strings.EqualFold(k[:len(prefix)], prefix) || len(vs) == 0 {
			continue
		}
		rest, v := strings.ToLower(k[len(prefix):]), clip(vs[0])
		switch rest {
		case "status":
			a.Status = v
			continue
		case "representative-claim":
			a.RepresentativeClaim = v
			continue
		case "overage-status":
			a.OverageStatus = v
			continue
		case "overage-utilization":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				a.OverageUtilization = &f
			}
			continue
		case "fallback":
			a.Fallback = v
			continue
		}
		i := strings.LastIndexByte(rest, '-')
		if i <= 0 {
			continue
		}
		name, field := rest[:i], rest[i+1:]
		if field != "utilization" && field != "reset" && field != "status" || strings.HasPrefix(name, "overage") {
			continue
		}
		w := windows[name]
		if w == nil {
			if len(windows) >= maxWindows {
				continue
			}
			w = &Window{Name: clip(name)}
			windows[name] = w
		}
		switch field {
		case "utilization":
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e6 {
				w.Utilization = f
			}
		case "reset":
			if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 && s < 1e11 {
				w.Reset = time.Unix(s, 0)
			} else if t, err := time.Parse(time.RFC3339, v); err == nil {
				w.Reset = t
			}
		case "status":
			w.Status = v
		}
	}
	for _, w := range windows {
		a.Windows = append(a.Windows, *w)
	}
	slices.SortFunc(a.Windows, func(x, y Window) int { return cmp.Compare(windowRank(x.Name), windowRank(y.Name)) })
	return a, true
}

// windowRank orders windows: 5h, 7d, then the per-model ones by name.
func windowRank(n string) string {
	switch n {
	case "5h":
		return "0"
	case "7d":
		return "1"
	}
	return "2" + n
}

// Observe reads one upstream response's quota headers. account is its
// anthropic-organization-id ("" when it had none).
func (t *Tracker) Observe(h http.Header, account string) {
	if account == "" {
		account = h.Get("Anthropic-Organization-Id")
	}
	account = clip(account)
	if account == "" {
		account = "unknown"
	}
	now := t.o.Now()
	a, ok := Parse(h, account, now)
	if !ok {
		return
	}
	var notes []events.Event
	t.mu.Lock()
	if old := t.accounts[account]; old == nil && len(t.accounts) >= maxAccounts {
		oldest := ""
		for k, v := range t.accounts {
			if oldest == "" || v.Seen.Before(t.accounts[oldest].Seen) {
				oldest = k
			}
		}
		delete(t.accounts, oldest)
	} else if old != nil && old.Seen.After(now) {
		t.mu.Unlock()
		return // an older response finishing late must not hide a newer reading
	}
	t.accounts[account] = &a
	for _, w := range a.Windows {
		notes = append(notes, t.checkLocked(account, w, now)...)
	}
	t.saveLocked()
	t.mu.Unlock()
	for _, e := range notes {
		t.publish(e)
	}
}

// Notification levels of the 5-hour window.
var levels = []int{80, 95}

// checkLocked returns the notifications a window's reading calls for, and
// schedules the one for an exhausted window's reset. Call with mu held.
func (t *Tracker) checkLocked(account string, w Window, now time.Time) []events.Event {
	var out []events.Event
	if w.Name == "5h" {
		key := account + "/" + w.Name + "/" + strconv.FormatInt(w.Reset.Unix(), 10)
		lvl := 0
		for _, l := range levels {
			if w.Utilization*100 >= float64(l) {
				lvl = l
			}
		}
		if lvl > t.alerted[key] {
			if len(t.alerted) > 4*maxAccounts {
				clear(t.alerted)
			}
			t.alerted[key] = lvl
			out = append(out, t.event(account, w, strconv.Itoa(lvl), now,
				fmt.Sprintf("subscription 5-hour quota at %d%% (%s)", int(w.Utilization*100), resetWords(w.Reset, now))))
		}
	}
	exhausted := w.Utilization >= 1 || strings.EqualFold(w.Status, "rejected")
	tk := account + "/" + w.Name
	if exhausted && !w.Reset.IsZero() && w.Reset.After(now) && w.Reset.Sub(now) <= 8*24*time.Hour && !t.closed {
		if stop, ok := t.timers[tk]; ok {
			stop()
		}
		win := w
		t.timers[tk] = t.o.AfterFunc(w.Reset.Sub(now), func() { t.resetFired(account, tk, win) })
	}
	return out
}

func (t *Tracker) resetFired(account, tk string, w Window) {
	t.mu.Lock()
	delete(t.timers, tk)
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return
	}
	now := t.o.Now()
	t.publish(t.event(account, w, "reset", now, fmt.Sprintf("subscription %s quota window has reset", w.Name)))
}

func (t *Tracker) event(account string, w Window, level string, now time.Time, detail string) events.Event {
	attrs := map[string]string{"account": account, "window": w.Name, "level": level,
		"utilization": strconv.FormatFloat(w.Utilization, 'f', -1, 64)}
	if !w.Reset.IsZero() {
		attrs["resets"] = w.Reset.Format(time.RFC3339)
	}
	return events.Event{Kind: events.QuotaAlert, Time: now, Detail: detail, Attrs: attrs}
}

func (t *Tracker) publish(e events.Event) {
	t.o.Logger.Warn("quota: "+e.Detail, "account", e.Attrs["account"], "window", e.Attrs["window"])
	if t.o.Publish != nil {
		t.o.Publish(e)
	}
}

// Accounts returns the latest reading of every account, most recent first.
func (t *Tracker) Accounts() []Account {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Account, 0, len(t.accounts))
	for _, a := range t.accounts {
		c := *a
		c.Windows = slices.Clone(a.Windows)
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y Account) int { return y.Seen.Compare(x.Seen) })
	return out
}

func resetWords(reset, now time.Time) string {
	if reset.IsZero() {
		return "reset unknown"
	}
	return "resets in " + reset.Sub(now).Round(time.Minute).String()
}

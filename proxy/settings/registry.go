package settings

import (
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/ferry-gateway/ferry/proxy/events"
)

// Store is the part of the database the registry needs: the settings
// bucket, key → JSON value (storage.DB).
type Store interface {
	GetSetting(key string, into any) (found bool, err error)
	PutSetting(key string, v any) error
	DeleteSetting(key string) error
}

// Registry holds the knobs, their stored values and this run's overrides.
// Safe for concurrent use. Value takes a read lock: a value read on every
// request belongs in an atomic the owner's watcher keeps current.
type Registry struct {
	store Store
	bus   *events.Bus

	setMu sync.Mutex // one change at a time, so watchers see changes in order

	mu      sync.RWMutex
	entries map[string]*entry
	pending map[string]Override // overrides given before their knob was registered
}

type entry struct {
	knob     Knob
	def      Value
	stored   *Value
	bad      string // a stored text the knob no longer takes (shown, not used)
	override *Override
	watchers map[int]func(Value)
	nextW    int
}

// Override is a value given for this run only (a flag or a FERRY_*
// variable); it wins over the stored value and is never stored.
type Override struct {
	Text string // as given
	From string // where it came from: "flag --retention", "FERRY_RETENTION"
	val  Value
}

// New returns an empty registry over store. bus may be nil (no events).
func New(store Store, bus *events.Bus) *Registry {
	return &Registry{store: store, bus: bus, entries: map[string]*entry{}, pending: map[string]Override{}}
}

// Register adds knobs. It fails on a knob defined wrongly or twice, or when
// the stored value cannot be read; a stored value the knob no longer takes
// (its range narrowed) is kept but not used. A value stored under
// Knob.Legacy is moved to Key.
func (r *Registry) Register(knobs ...Knob) error {
	for _, k := range knobs {
		if err := k.validate(); err != nil {
			return err
		}
		def, _ := k.Parse(k.Default)
		e := &entry{knob: k, def: def, watchers: map[int]func(Value){}}
		if err := r.load(e); err != nil {
			return err
		}
		r.mu.Lock()
		if _, dup := r.entries[k.Key]; dup {
			r.mu.Unlock()
			return fmt.Errorf("knob %s registered twice", k.Key)
		}
		if o, ok := r.pending[k.Key]; ok {
			delete(r.pending, k.Key)
			v, err := k.Parse(o.Text)
			if err != nil {
				r.mu.Unlock()
				return fmt.Errorf("%s: %w", o.From, err)
			}
			o.val = v
			e.override = &o
		}
		r.entries[k.Key] = e
		r.mu.Unlock()
	}
	return nil
}

// load reads e's stored value, moving a legacy one first.
func (r *Registry) load(e *entry) error {
	k := e.knob
	var text string
	found, err := r.store.GetSetting(k.Key, &text)
	if err != nil {
		return fmt.Errorf("read setting %s: %w", k.Key, err)
	}
	if !found && k.Legacy != "" {
		if text, found, err = r.migrate(k); err != nil {
			return err
		}
	}
	if !found {
		return nil
	}
	if v, err := k.Parse(text); err == nil && (k.CheckStored == nil || k.CheckStored(v)) {
		e.stored = &v
	} else {
		e.bad = text
	}
	return nil
}

// migrate moves the value stored under k.Legacy (a JSON string or bool) to
// k.Key in the knob's text form. An old value the knob does not take is
// dropped: the default is what the old code used for it too.
func (r *Registry) migrate(k Knob) (string, bool, error) {
	var raw any
	found, err := r.store.GetSetting(k.Legacy, &raw)
	if err != nil {
		// Not JSON we know: drop it rather than keep Ferry from starting.
		found = false
	}
	if !found {
		return "", false, nil
	}
	text := ""
	switch v := raw.(type) {
	case string:
		text = v
	case bool:
		text = map[bool]string{true: "on", false: "off"}[v]
	}
	val, perr := k.Parse(text)
	if perr == nil && k.CheckStored != nil && !k.CheckStored(val) {
		perr = &ValueError{Knob: k, Text: text}
	}
	if perr == nil {
		if err := r.store.PutSetting(k.Key, val.String()); err != nil {
			return "", false, fmt.Errorf("move setting %s to %s: %w", k.Legacy, k.Key, err)
		}
	}
	if err := r.store.DeleteSetting(k.Legacy); err != nil {
		return "", false, fmt.Errorf("move setting %s to %s: %w", k.Legacy, k.Key, err)
	}
	if perr != nil {
		return "", false, nil
	}
	return val.String(), true, nil
}

// Override sets key to text for this run only, never stored: from names
// the flag or variable for `ferry config list`. A key not registered yet is
// kept and checked when it is; Unregistered reports those left over.
func (r *Registry) Override(key, text, from string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	if !ok {
		r.pending[key] = Override{Text: text, From: from}
		return nil
	}
	v, err := e.knob.Parse(text)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	e.override = &Override{Text: text, From: from, val: v}
	return nil
}

// Unregistered reports an override whose key no knob has.
func (r *Registry) Unregistered() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, key := range slices.Sorted(maps.Keys(r.pending)) {
		return fmt.Errorf("%s: %w", r.pending[key].From, &UnknownKeyError{Key: key, Known: r.keysLocked()})
	}
	return nil
}

func (e *entry) effective() Value {
	switch {
	case e.override != nil:
		return e.override.val
	case e.stored != nil:
		return *e.stored
	}
	return e.def
}

// Value is key's value now: this run's override, else the stored value,
// else the default. It panics on a key no knob has: keys are constants of
// their owner, so that is a programming error.
func (r *Registry) Value(key string) Value {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[key]
	if !ok {
		panic(fmt.Sprintf("settings: no knob %q registered", key))
	}
	return e.effective()
}

// Knob returns the definition of key.
func (r *Registry) Knob(key string) (Knob, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[key]
	if !ok {
		return Knob{}, &UnknownKeyError{Key: key, Known: r.keysLocked()}
	}
	return e.knob, nil
}

func (r *Registry) keysLocked() []string { return slices.Sorted(maps.Keys(r.entries)) }

// Keys lists the registered keys, sorted.
func (r *Registry) Keys() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keysLocked()
}

// Entry is a knob with its values, as `ferry config` and /_ferry/config
// show it.
type Entry struct {
	Knob     Knob
	Value    Value     // in effect now
	Stored   *Value    // nil when never set (or reset)
	Bad      string    // a stored text the knob no longer takes, ignored
	Override *Override // this run's flag or variable, or nil
	Default  Value
}

// Entry returns key's entry.
func (r *Registry) Entry(key string) (Entry, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[key]
	if !ok {
		return Entry{}, &UnknownKeyError{Key: key, Known: r.keysLocked()}
	}
	return e.snapshot(), nil
}

func (e *entry) snapshot() Entry {
	out := Entry{Knob: e.knob, Value: e.effective(), Default: e.def, Bad: e.bad}
	if e.stored != nil {
		v := *e.stored
		out.Stored = &v
	}
	if e.override != nil {
		o := *e.override
		out.Override = &o
	}
	return out
}

// Entries lists every knob, sorted by key.
func (r *Registry) Entries() []Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Entry, 0, len(r.entries))
	for _, k := range r.keysLocked() {
		out = append(out, r.entries[k].snapshot())
	}
	return out
}

// Set validates text, stores its canonical form under key, publishes
// events.SettingsChanged (Detail: key) and, when the value in effect
// changed (no override hides it), calls key's watchers before it returns.
// A bad value stores nothing. A knob that applies at the next start or
// window restart is stored for then; its watchers are still called, for
// owners that show the pending value.
func (r *Registry) Set(key, text string) (Entry, error) {
	r.setMu.Lock()
	defer r.setMu.Unlock()
	k, err := r.Knob(key)
	if err != nil {
		return Entry{}, err
	}
	v, err := k.Parse(text)
	if err != nil {
		return Entry{}, err
	}
	if k.CheckStored != nil && !k.CheckStored(v) {
		return Entry{}, &ValueError{Knob: k, Text: text}
	}
	if err := r.store.PutSetting(key, v.String()); err != nil {
		return Entry{}, fmt.Errorf("store setting %s: %w", key, err)
	}
	return r.changed(key, &v), nil
}

// Reset removes key's stored value: the default applies again.
func (r *Registry) Reset(key string) (Entry, error) {
	r.setMu.Lock()
	defer r.setMu.Unlock()
	if _, err := r.Knob(key); err != nil {
		return Entry{}, err
	}
	if err := r.store.DeleteSetting(key); err != nil {
		return Entry{}, fmt.Errorf("reset setting %s: %w", key, err)
	}
	return r.changed(key, nil), nil
}

// changed records key's new stored value (nil: none), publishes the event
// and calls the watchers if the value in effect changed. setMu is held.
func (r *Registry) changed(key string, stored *Value) Entry {
	r.mu.Lock()
	e := r.entries[key]
	before := e.effective()
	e.stored, e.bad = stored, ""
	after := e.effective()
	snap := e.snapshot()
	var watchers []func(Value)
	if after.String() != before.String() {
		for _, id := range slices.Sorted(maps.Keys(e.watchers)) {
			watchers = append(watchers, e.watchers[id])
		}
	}
	r.mu.Unlock()
	if r.bus != nil {
		r.bus.Publish(events.Event{Kind: events.SettingsChanged, Detail: key})
	}
	for _, w := range watchers {
		w(after)
	}
	return snap
}

// Watch calls fn with key's new value whenever the value in effect
// changes (Set or Reset, not hidden by an override), on the goroutine that
// made the change, before Set returns; fn must not call Set or Reset. It
// returns a function that stops the watching. It panics on an unknown key,
// as Value does.
func (r *Registry) Watch(key string, fn func(Value)) (cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[key]
	if !ok {
		panic(fmt.Sprintf("settings: no knob %q registered", key))
	}
	id := e.nextW
	e.nextW++
	e.watchers[id] = fn
	return func() {
		r.mu.Lock()
		delete(e.watchers, id)
		r.mu.Unlock()
	}
}

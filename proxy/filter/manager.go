package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Store keeps lists' encodings by name (storage.DB implements it).
type Store interface {
	FilterLists() (map[string][]byte, error)
	PutFilterList(name string, enc []byte) error
	DeleteFilterList(name string) error
}

// Sentinel errors of the Manager; the admin API maps them to statuses.
var (
	ErrNoList    = errors.New("no such filter list")
	ErrNoEntry   = errors.New("no such entry")
	ErrBuiltin   = errors.New("the built-in list's entries come with Ferry")
	ErrListExist = errors.New("filter list exists")
)

// stored is a list's encoding. The built-in list keeps only its switches:
// its entries come with Ferry, so an update that sharpens a format
// reaches every install.
type stored struct {
	V            int     `json:"v"`
	Name         string  `json:"name"`
	Enabled      bool    `json:"enabled"`
	Builtin      bool    `json:"builtin,omitempty"`
	RequestMode  Action  `json:"request_mode,omitempty"`
	ResponseMode Action  `json:"response_mode,omitempty"`
	Entries      []Entry `json:"entries,omitempty"`
	Off          []int   `json:"off,omitempty"` // built-in entries turned off, 1-based
}

// Manager holds the lists, keeps them in a Store and compiles the Set the
// proxy matches with. It is safe for concurrent use; the request path
// only loads the current Set.
type Manager struct {
	store Store
	key   []byte
	mu    sync.Mutex // serialises changes
	lists []List     // sorted by name; the built-in list's entries filled in
	set   atomic.Pointer[Set]
}

// NewManager loads the lists from store (a fresh install gets the built-in
// secrets list, on) and compiles them. key is the per-install key
// placeholders are hashed under.
func NewManager(store Store, key []byte) (*Manager, error) {
	if len(key) == 0 {
		return nil, errors.New("filters: empty placeholder key")
	}
	m := &Manager{store: store, key: key}
	raw, err := store.FilterLists()
	if err != nil {
		return nil, err
	}
	haveSecrets := false
	for name, enc := range raw {
		l, err := decodeList(enc)
		if err != nil {
			return nil, fmt.Errorf("filter list %q: %w", name, err)
		}
		haveSecrets = haveSecrets || l.Builtin && l.Name == SecretsList
		m.lists = append(m.lists, l)
	}
	if !haveSecrets {
		m.lists = append(m.lists, DefaultSecrets())
	}
	m.sort()
	if err := m.compile(); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeList(enc []byte) (List, error) {
	var s stored
	if err := json.Unmarshal(enc, &s); err != nil {
		return List{}, fmt.Errorf("decode: %w", err)
	}
	l := List{Name: s.Name, Enabled: s.Enabled, Builtin: s.Builtin, RequestMode: s.RequestMode, ResponseMode: s.ResponseMode, Entries: s.Entries}
	if l.Builtin && l.Name == SecretsList {
		l.Entries = SecretsEntries()
		for _, n := range s.Off {
			if n >= 1 && n <= len(l.Entries) {
				l.Entries[n-1].Disabled = true
			}
		}
	}
	return l, nil
}

func encodeList(l *List) ([]byte, error) {
	s := stored{V: 1, Name: l.Name, Enabled: l.Enabled, Builtin: l.Builtin, RequestMode: l.RequestMode, ResponseMode: l.ResponseMode}
	if l.Builtin {
		for i, e := range l.Entries {
			if e.Disabled {
				s.Off = append(s.Off, i+1)
			}
		}
	} else {
		s.Entries = l.Entries
	}
	return json.Marshal(s)
}

func (m *Manager) sort() {
	slices.SortFunc(m.lists, func(a, b List) int { return strings.Compare(a.Name, b.Name) })
}

func (m *Manager) compile() error {
	s, err := Compile(m.lists, m.key)
	if err != nil {
		return err
	}
	m.set.Store(s)
	return nil
}

// Set is the compiled set in force.
func (m *Manager) Set() *Set { return m.set.Load() }

// Version changes whenever an enabled list changes (the cache keys on it).
func (m *Manager) Version() string { return m.Set().Version() }

// Lists returns a copy of every list, sorted by name.
func (m *Manager) Lists() []List {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]List, len(m.lists))
	for i, l := range m.lists {
		out[i] = l
		out[i].Entries = slices.Clone(l.Entries)
	}
	return out
}

// List returns one list.
func (m *Manager) List(name string) (List, error) {
	for _, l := range m.Lists() {
		if l.Name == name {
			return l, nil
		}
	}
	return List{}, fmt.Errorf("%w: %q", ErrNoList, truncate(name, MaxNameLen))
}

// change applies f to the named list (create makes an empty, enabled one
// if missing), then validates, compiles and stores it: a change that does
// not compile is refused and nothing is kept.
func (m *Manager) change(name string, create bool, f func(l *List) error) error {
	if err := ValidName(name); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.lists, func(l List) bool { return l.Name == name })
	var l List
	switch {
	case i >= 0:
		l = m.lists[i]
		l.Entries = slices.Clone(l.Entries)
	case create:
		l = List{Name: name, Enabled: true}
	default:
		return fmt.Errorf("%w: %q", ErrNoList, name)
	}
	if err := f(&l); err != nil {
		return err
	}
	if err := l.Validate(); err != nil {
		return err
	}
	next := slices.Clone(m.lists)
	if i >= 0 {
		next[i] = l
	} else {
		next = append(next, l)
		slices.SortFunc(next, func(a, b List) int { return strings.Compare(a.Name, b.Name) })
	}
	s, err := Compile(next, m.key)
	if err != nil {
		return err
	}
	enc, err := encodeList(&l)
	if err != nil {
		return err
	}
	if err := m.store.PutFilterList(name, enc); err != nil {
		return err
	}
	m.lists = next
	m.set.Store(s)
	return nil
}

// Add appends an entry to a list (created if missing) and returns its
// number.
func (m *Manager) Add(name string, e Entry) (int, error) {
	var n int
	err := m.change(name, true, func(l *List) error {
		if l.Builtin {
			return ErrBuiltin
		}
		if err := e.Validate(); err != nil {
			return err
		}
		e.Name, e.Note = "", ""
		l.Entries = append(l.Entries, e)
		n = len(l.Entries)
		return nil
	})
	return n, err
}

// Remove deletes entry n (1-based) of a user list; the entries after it
// move up one.
func (m *Manager) Remove(name string, n int) error {
	return m.change(name, false, func(l *List) error {
		if l.Builtin {
			return fmt.Errorf("%w: turn the entry off instead (ferry filters disable %s %d)", ErrBuiltin, name, n)
		}
		if n < 1 || n > len(l.Entries) {
			return fmt.Errorf("%w: %s has %d entries", ErrNoEntry, name, len(l.Entries))
		}
		l.Entries = slices.Delete(l.Entries, n-1, n)
		return nil
	})
}

// Import adds entries to a list (created if missing); replace drops the
// old ones first. It returns the list's entry count.
func (m *Manager) Import(name string, es []Entry, replace bool) (int, error) {
	var n int
	err := m.change(name, true, func(l *List) error {
		if l.Builtin {
			return ErrBuiltin
		}
		if replace {
			l.Entries = nil
		}
		if len(l.Entries)+len(es) > MaxEntries {
			return fmt.Errorf("%d entries: at most %d", len(l.Entries)+len(es), MaxEntries)
		}
		l.Entries = append(l.Entries, es...)
		n = len(l.Entries)
		return nil
	})
	return n, err
}

// Enable turns a list, or with entry > 0 one of its entries, on or off.
func (m *Manager) Enable(name string, entry int, on bool) error {
	return m.change(name, false, func(l *List) error {
		if entry == 0 {
			l.Enabled = on
			return nil
		}
		if entry < 1 || entry > len(l.Entries) {
			return fmt.Errorf("%w: %s has %d entries", ErrNoEntry, name, len(l.Entries))
		}
		l.Entries[entry-1].Disabled = !on
		return nil
	})
}

// SetMode sets a list's action on each side; "" leaves a side as it is,
// and "entry" goes back to each entry's own action.
func (m *Manager) SetMode(name string, request, response Action) error {
	return m.change(name, false, func(l *List) error {
		for _, p := range []struct {
			in  Action
			dst *Action
		}{{request, &l.RequestMode}, {response, &l.ResponseMode}} {
			switch p.in {
			case "":
			case "entry":
				*p.dst = ""
			default:
				a, err := ParseAction(string(p.in), true)
				if err != nil {
					return err
				}
				*p.dst = a
			}
		}
		return nil
	})
}

// Delete removes a user list.
func (m *Manager) Delete(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.lists, func(l List) bool { return l.Name == name })
	if i < 0 {
		return fmt.Errorf("%w: %q", ErrNoList, truncate(name, MaxNameLen))
	}
	if m.lists[i].Builtin {
		return fmt.Errorf("%w: disable it instead", ErrBuiltin)
	}
	next := slices.Delete(slices.Clone(m.lists), i, i+1)
	s, err := Compile(next, m.key)
	if err != nil {
		return err
	}
	if err := m.store.DeleteFilterList(name); err != nil {
		return err
	}
	m.lists = next
	m.set.Store(s)
	return nil
}

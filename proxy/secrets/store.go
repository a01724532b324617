package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
)

// FileName is the secrets file's name in the data dir.
const FileName = "secrets.json"

// installKeyPrefix prefixes the names under which per-install keys are kept.
const installKeyPrefix = "install_key/"

// installKeyLen is the size of a per-install key: 256 bits, enough for an
// HMAC-SHA256 key.
const installKeyLen = 32

// validName bounds the names callers use: short, printable, no surprises
// in the JSON file.
var validName = regexp.MustCompile(`^[a-z0-9_./-]{1,64}$`)

// Store is the secrets file of one data dir, held in memory and written
// whole on every change. Safe for concurrent use.
type Store struct {
	dir string

	mu     sync.Mutex
	values map[string]string
}

// Open reads dir's secrets file, or starts an empty one. It refuses a
// file another user could have planted or can read (see CheckFile).
func Open(dir string) (*Store, error) {
	s := &Store{dir: dir, values: map[string]string{}}
	path := filepath.Join(dir, FileName)
	if err := CheckFile(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return s, nil
		}
		return nil, fmt.Errorf("secrets file: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secrets file: %w", err)
	}
	var doc fileDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		// Never quote the content: it is secrets.
		return nil, fmt.Errorf("secrets file %s is damaged (not the JSON Ferry writes); move it away to start with new tokens", path)
	}
	if doc.Secrets != nil {
		s.values = doc.Secrets
	}
	return s, nil
}

// fileDoc is the file's JSON.
type fileDoc struct {
	Version int               `json:"version"`
	Secrets map[string]string `json:"secrets"`
}

// Get returns the secret stored under name.
func (s *Store) Get(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[name]
	return v, ok
}

// Put stores value under name and rewrites the file.
func (s *Store) Put(name, value string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("secret name %q: want 1–64 of [a-z0-9_./-]", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.values[name]
	if had && old == value {
		return nil
	}
	s.values[name] = value
	if err := s.save(); err != nil {
		if had {
			s.values[name] = old
		} else {
			delete(s.values, name)
		}
		return err
	}
	return nil
}

// Delete removes name and rewrites the file; a missing name is fine.
func (s *Store) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.values[name]
	if !had {
		return nil
	}
	delete(s.values, name)
	if err := s.save(); err != nil {
		s.values[name] = old
		return err
	}
	return nil
}

// Names lists the stored names, sorted (never the values).
func (s *Store) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for k := range s.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// InstallKey returns the per-install key called name (for example "cache"
// for the cache's HMAC key, "placeholder" for the filters' placeholders),
// made of 32 random bytes the first time it is asked for and the same
// ever after on this data dir.
func (s *Store) InstallKey(name string) ([]byte, error) {
	full := installKeyPrefix + name
	if !validName.MatchString(full) {
		return nil, fmt.Errorf("install key name %q: want [a-z0-9_./-]", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[full]; ok {
		if k, err := base64.StdEncoding.DecodeString(v); err == nil && len(k) == installKeyLen {
			return k, nil
		}
		return nil, fmt.Errorf("install key %q in the secrets file is damaged", name)
	}
	k := make([]byte, installKeyLen)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("make install key %q: %w", name, err)
	}
	s.values[full] = base64.StdEncoding.EncodeToString(k)
	if err := s.save(); err != nil {
		delete(s.values, full)
		return nil, err
	}
	return k, nil
}

// GetSecret, PutSecret and DeleteSecret give the store the shape of the
// database's old secrets API, so the key holder works on either.
func (s *Store) GetSecret(name string) (string, bool, error) {
	v, ok := s.Get(name)
	return v, ok, nil
}

// PutSecret is Put.
func (s *Store) PutSecret(name, value string) error { return s.Put(name, value) }

// DeleteSecret is Delete.
func (s *Store) DeleteSecret(name string) error { return s.Delete(name) }

func (s *Store) save() error {
	b, err := json.MarshalIndent(fileDoc{Version: 1, Secrets: s.values}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode secrets file: %w", err)
	}
	return WriteFile(s.dir, FileName, b)
}

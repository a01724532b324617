package storage

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Filter lists live in filters/, one key per list name, its value the
// list's encoding. The filter package owns that encoding (a versioned
// JSON document); storage keeps the bytes and bounds them.

// Bounds of a stored filter list.
const (
	MaxFilterListName = 64
	MaxFilterListSize = 32 << 20 // a compliance list of 100,000 entries fits
)

// FilterLists returns every stored filter list: name → its encoding.
func (db *DB) FilterLists() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return sub(tx, bucketFilters).ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read filter lists: %w", err)
	}
	return out, nil
}

// PutFilterList stores a list's encoding under its name, replacing it.
func (db *DB) PutFilterList(name string, enc []byte) error {
	switch {
	case name == "" || len(name) > MaxFilterListName:
		return fmt.Errorf("put filter list: name of %d bytes (1 to %d)", len(name), MaxFilterListName)
	case len(enc) > MaxFilterListSize:
		return fmt.Errorf("put filter list %q: %d bytes, at most %d", name, len(enc), MaxFilterListSize)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return sub(tx, bucketFilters).Put([]byte(name), enc)
	})
	if err != nil {
		return fmt.Errorf("put filter list %q: %w", name, err)
	}
	return nil
}

// DeleteFilterList removes a list; removing a missing one is not an error.
func (db *DB) DeleteFilterList(name string) error {
	if name == "" {
		return errors.New("delete filter list: empty name")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return sub(tx, bucketFilters).Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("delete filter list %q: %w", name, err)
	}
	return nil
}

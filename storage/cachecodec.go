package storage

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// A cache entry's value in entries/:
//
//	format    1 byte (cacheEntryFormat)
//	stored    be64 Unix ns
//	expires   be64 Unix ns
//	cred      uvarint length, bytes
//	head      uvarint length, bytes
//	body      the rest
//
// The index reads only up to the head's length, so loading a large file
// touches one page per entry, not its body.
const cacheEntryFormat = 1

func encodeCacheEntry(e *CacheEntry) []byte {
	b := make([]byte, 0, 17+2*binary.MaxVarintLen64+len(e.Cred)+len(e.Head)+len(e.Body))
	b = append(b, cacheEntryFormat)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Stored.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Expires.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(e.Cred)))
	b = append(b, e.Cred...)
	b = binary.AppendUvarint(b, uint64(len(e.Head)))
	b = append(b, e.Head...)
	return append(b, e.Body...)
}

// cacheHead is the fixed part of an entry and where its head ends.
type cacheHead struct {
	stored, expires int64
	cred            string
	head            []byte // borrowed from the value
	bodyAt          int
}

func decodeCacheHead(v []byte) (h cacheHead, err error) {
	if len(v) < 17 || v[0] != cacheEntryFormat {
		return h, fmt.Errorf("entry format: %w", ErrCorrupt)
	}
	h.stored = int64(binary.BigEndian.Uint64(v[1:]))
	h.expires = int64(binary.BigEndian.Uint64(v[9:]))
	i := 17
	field := func() ([]byte, error) {
		n, k := binary.Uvarint(v[i:])
		if k <= 0 || n > uint64(len(v)-i-k) {
			return nil, fmt.Errorf("entry field: %w", ErrCorrupt)
		}
		f := v[i+k : i+k+int(n)]
		i += k + int(n)
		return f, nil
	}
	cred, err := field()
	if err != nil {
		return h, err
	}
	h.cred = string(cred)
	if h.head, err = field(); err != nil {
		return h, err
	}
	h.bodyAt = i
	return h, nil
}

func decodeCacheItem(k, v []byte) (*cacheItem, error) {
	h, err := decodeCacheHead(v)
	if err != nil {
		return nil, err
	}
	e := CacheEntry{Key: string(k), Cred: h.cred, Head: h.head, Body: v[h.bodyAt:]}
	return &cacheItem{key: e.Key, cred: h.cred, size: e.size(), stored: h.stored, expires: h.expires}, nil
}

// decodeCacheEntry copies the entry out of v (bbolt's memory is valid only
// inside its transaction).
func decodeCacheEntry(k, v []byte) (CacheEntry, error) {
	h, err := decodeCacheHead(v)
	if err != nil {
		return CacheEntry{}, err
	}
	// One allocation for head and body.
	buf := slices.Clone(v[h.bodyAt-len(h.head):])
	return CacheEntry{
		Key: string(k), Cred: h.cred,
		Stored: unixNano(h.stored), Expires: unixNano(h.expires),
		Head: buf[:len(h.head):len(h.head)], Body: buf[len(h.head):],
	}, nil
}

func sortItemsByUse(items []*cacheItem) {
	slices.SortFunc(items, func(a, b *cacheItem) int {
		switch {
		case a.used > b.used:
			return -1
		case a.used < b.used:
			return 1
		}
		return 0
	})
}

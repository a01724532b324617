package storage

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// cacheOp is one job for the writer: a put, or a request it answers on
// reply (flush, clear, drop, close).
type cacheOp struct {
	put   *CacheEntry
	do    func() error // run on the writer's goroutine
	reply chan error
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns) }

// maxPutBatch and maxPutBatchBytes bound the puts held for one
// transaction: a full batch is written without waiting for PutDelay.
const (
	maxPutBatch      = 64
	maxPutBatchBytes = 8 << 20
)

// run is the writer: the only goroutine that writes the file. It ends
// when Close asks it to. Puts wait up to PutDelay to share a transaction
// (group commit); any other job writes the waiting puts first, so it sees
// every put queued before it.
func (c *CacheDB) run() {
	defer close(c.done)
	recency := time.NewTicker(c.o.RecencyInterval)
	defer recency.Stop()
	sweep := time.NewTicker(c.o.SweepInterval)
	defer sweep.Stop()
	linger := time.NewTimer(c.o.PutDelay)
	linger.Stop()
	var puts []*CacheEntry
	var held int64
	flush := func() {
		linger.Stop()
		c.writePuts(puts)
		clear(puts)
		puts, held = puts[:0], 0
	}
	for {
		select {
		case op := <-c.ops:
			if op.put != nil {
				puts = append(puts, op.put)
				held += op.put.size()
				if len(puts) >= maxPutBatch || held >= maxPutBatchBytes {
					flush()
				} else if len(puts) == 1 {
					linger.Reset(c.o.PutDelay)
				}
				continue
			}
			flush()
			err := op.do()
			op.reply <- err
			if errors.Is(err, errClosed) {
				return
			}
		case <-linger.C:
			flush()
		case <-recency.C:
			c.writeRecency()
		case <-sweep.C:
			c.sweep()
		}
	}
}

var errClosed = errors.New("cache store closed")

// call runs f on the writer and waits for it.
func (c *CacheDB) call(f func() error) error {
	reply := make(chan error, 1)
	select {
	case c.ops <- cacheOp{do: f, reply: reply}:
	case <-c.done:
		return errClosed
	}
	select {
	case err := <-reply:
		return err
	case <-c.done:
		return errClosed
	}
}

// update runs f in a write transaction; a failure turns the store off.
func (c *CacheDB) update(f func(ents, rec *bolt.Bucket) error) error {
	if c.off.Load() != nil {
		return c.Err()
	}
	c.dbMu.RLock() // only the writer swaps bolt, and this is the writer
	db := c.bolt
	c.dbMu.RUnlock()
	if db == nil {
		return c.Err()
	}
	err := db.Update(func(tx *bolt.Tx) error {
		r := tx.Bucket(bucketRoot)
		return f(r.Bucket(bucketEntries), r.Bucket(bucketRecency))
	})
	if err != nil {
		c.turnOff(fmt.Errorf("write %s: %w", c.path, err))
		return err
	}
	releaseMapped(db)
	return nil
}

// writePuts stores puts in one transaction, evicting the least recently
// used entries past the size cap in the same one.
func (c *CacheDB) writePuts(puts []*CacheEntry) {
	if len(puts) == 0 {
		return
	}
	items := make([]*cacheItem, len(puts))
	var added int64
	for k, e := range puts {
		items[k] = &cacheItem{key: e.Key, cred: e.Cred, size: e.size(), stored: e.Stored.UnixNano(),
			expires: e.Expires.UnixNano(), used: e.Stored.UnixNano()}
		added += items[k].size
	}
	// Victims: from the back of the LRU list until the new total fits.
	c.mu.Lock()
	total := c.bytes + added
	fresh := make(map[string]bool, len(items))
	for _, it := range items {
		fresh[it.key] = true
		if el := c.index[it.key]; el != nil {
			total -= el.Value.(*cacheItem).size
		}
	}
	var victims []string
	for el := c.lru.Back(); el != nil && total > c.maxBytes.Load(); el = el.Prev() {
		it := el.Value.(*cacheItem)
		if fresh[it.key] {
			continue
		}
		victims = append(victims, it.key)
		total -= it.size
	}
	c.mu.Unlock()
	c.batches.Add(1)
	err := c.update(func(ents, rec *bolt.Bucket) error {
		for _, k := range victims {
			if err := ents.Delete([]byte(k)); err != nil {
				return err
			}
			if err := rec.Delete([]byte(k)); err != nil {
				return err
			}
		}
		for _, e := range puts {
			if err := ents.Put([]byte(e.Key), encodeCacheEntry(e)); err != nil {
				return err
			}
			if err := rec.Delete([]byte(e.Key)); err != nil {
				return err
			}
		}
		return nil
	})
	c.mu.Lock()
	for _, e := range puts {
		if c.pending[e.Key] == e {
			delete(c.pending, e.Key)
		}
	}
	c.mu.Unlock()
	if err != nil {
		return
	}
	c.mu.Lock()
	for _, k := range victims {
		c.removeLocked(k)
	}
	c.evicted.Add(uint64(len(victims)))
	for _, it := range items {
		c.removeLocked(it.key)
		c.index[it.key] = c.lru.PushFront(it)
		c.bytes += it.size
	}
	c.mu.Unlock()
}

func (c *CacheDB) removeLocked(key string) {
	if el := c.index[key]; el != nil {
		c.bytes -= el.Value.(*cacheItem).size
		c.lru.Remove(el)
		delete(c.index, key)
	}
}

// writeRecency persists the last-use times changed since the last time.
func (c *CacheDB) writeRecency() {
	type use struct {
		key  string
		used int64
	}
	var uses []use
	c.mu.Lock()
	for el := c.lru.Front(); el != nil; el = el.Next() {
		it := el.Value.(*cacheItem)
		if it.dirty {
			uses = append(uses, use{it.key, it.used})
			it.dirty = false
		}
	}
	c.mu.Unlock()
	if len(uses) == 0 {
		return
	}
	c.update(func(ents, rec *bolt.Bucket) error {
		for _, u := range uses {
			if ents.Get([]byte(u.key)) == nil {
				continue // evicted or dropped meanwhile
			}
			if err := rec.Put([]byte(u.key), be64(uint64(u.used))); err != nil {
				return err
			}
		}
		return nil
	})
}

// sweep deletes expired entries.
func (c *CacheDB) sweep() {
	now := c.o.Now().UnixNano()
	c.deleteWhere(func(it *cacheItem) bool { return now >= it.expires })
}

// deleteWhere deletes the entries that match and returns how many.
func (c *CacheDB) deleteWhere(match func(it *cacheItem) bool) int {
	var keys []string
	c.mu.Lock()
	for k, el := range c.index {
		if match(el.Value.(*cacheItem)) {
			keys = append(keys, k)
		}
	}
	c.mu.Unlock()
	if len(keys) == 0 {
		return 0
	}
	err := c.update(func(ents, rec *bolt.Bucket) error {
		for _, k := range keys {
			if err := ents.Delete([]byte(k)); err != nil {
				return err
			}
			if err := rec.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0
	}
	c.mu.Lock()
	for _, k := range keys {
		c.removeLocked(k)
	}
	c.mu.Unlock()
	return len(keys)
}

// Flush waits until every entry put before it is written (or dropped by
// a failure).
func (c *CacheDB) Flush() error {
	return c.call(func() error { return nil })
}

// Clear deletes the entries stored more than olderThan ago (all of them
// when olderThan is 0) and compacts the file, so cleared answers don't
// linger in free pages. It returns how many were deleted. Clearing all
// recreates the file, which also turns a store that went off back on.
func (c *CacheDB) Clear(olderThan time.Duration) (n int, err error) {
	err = c.call(func() error {
		if olderThan <= 0 {
			c.mu.Lock()
			n = len(c.index)
			c.mu.Unlock()
			return c.recreate()
		}
		cut := c.o.Now().Add(-olderThan).UnixNano()
		n = c.deleteWhere(func(it *cacheItem) bool { return it.stored < cut })
		return c.compact()
	})
	return n, err
}

// DropCredential deletes the entries stored for the credential tagged
// cred (ferry key clear) and compacts the file.
func (c *CacheDB) DropCredential(cred string) (n int, err error) {
	err = c.call(func() error {
		n = c.deleteWhere(func(it *cacheItem) bool { return it.cred == cred })
		if n == 0 {
			return nil
		}
		return c.compact()
	})
	return n, err
}

// recreate replaces the file with an empty one.
func (c *CacheDB) recreate() error {
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	if c.bolt != nil {
		c.bolt.Close()
		c.bolt = nil
	}
	if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("remove %s: %w", c.path, err)
		c.turnOff(err)
		return err
	}
	if err := c.open(); err != nil {
		c.turnOff(err)
		return err
	}
	return nil
}

// compact rewrites the live entries into a new file and swaps it in.
func (c *CacheDB) compact() error {
	if c.off.Load() != nil {
		return c.Err()
	}
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	tmp := c.path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact %s: %w", c.path, err)
	}
	if err := bolt.Compact(dst, c.bolt, 4<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact %s: %w", c.path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact %s: sync: %w", c.path, err)
	}
	dst.Close()
	c.bolt.Close()
	c.bolt = nil
	if err := os.Rename(tmp, c.path); err != nil {
		err = fmt.Errorf("compact %s: %w", c.path, err)
		c.turnOff(err)
		return err
	}
	if err := c.open(); err != nil {
		c.turnOff(err)
		return err
	}
	return nil
}

// Close writes the last-use times and closes the file; later calls do
// nothing. Entries still queued are written first.
func (c *CacheDB) Close() error {
	var closeErr error
	c.closeOnce.Do(func() {
		c.call(func() error {
			c.writeRecency()
			c.dbMu.Lock()
			defer c.dbMu.Unlock()
			if c.bolt != nil {
				if err := c.bolt.Close(); err != nil {
					closeErr = fmt.Errorf("close %s: %w", c.path, err)
				}
				c.bolt = nil
			}
			return errClosed // ends the writer
		})
	})
	return closeErr
}

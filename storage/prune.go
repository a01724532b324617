package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// How long rollups are kept, whatever the records' retention: the dashboard
// keeps its history after the records behind it are gone. Minute rollups
// cover a 7-day window's edges exactly; hour rollups a year's. Day rollups
// cost about 2 MB for the five years.
const (
	MinuteRollupRetention = 8 * 24 * time.Hour
	HourRollupRetention   = 400 * 24 * time.Hour
	DayRollupRetention    = 5 * 365 * 24 * time.Hour
)

// Records are keyed by write order but carry their start time, which can
// be earlier than a neighbour's by a request's duration. Prune keeps
// scanning this far past its cutoff so such stragglers go too.
const pruneSlack = time.Hour

// pruneChunk bounds one delete transaction so the recorder never waits long.
const pruneChunk = 10000

// Prune deletes the records whose Time is before before (none when before is
// zero) and the rollups older than their own retention, in transactions of
// at most pruneChunk deletes. It returns how many records it deleted.
func (db *DB) Prune(before time.Time) (int, error) {
	deleted := 0
	if !before.IsZero() {
		stop := before.Add(pruneSlack)
		var resume []byte
		for {
			n, next, err := db.pruneRecords(resume, before, stop)
			deleted += n
			if err != nil {
				return deleted, fmt.Errorf("prune records before %s: %w", before.Format(time.RFC3339), err)
			}
			if next == nil {
				break
			}
			resume = next
		}
	}
	now := db.now()
	cuts := []struct {
		g       grain
		cut     int64
		horizon []byte
	}{
		{grainMinute, grainHour.start(now.Add(-MinuteRollupRetention)), keyMinuteHorizon},
		{grainHour, grainDay.start(now.Add(-HourRollupRetention)), keyHourHorizon},
		{grainDay, grainDay.start(now.Add(-DayRollupRetention)), nil},
	}
	for _, c := range cuts {
		for {
			more, err := db.pruneRollups(c.g, c.cut, c.horizon)
			if err != nil {
				return deleted, fmt.Errorf("prune %s rollups: %w", c.g.bucket, err)
			}
			if !more {
				break
			}
		}
	}
	return deleted, nil
}

// pruneRecords deletes up to pruneChunk old records starting at resume;
// next is where to go on, nil when done.
func (db *DB) pruneRecords(resume []byte, before, stop time.Time) (n int, next []byte, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		ub := sub(tx, bucketUsage)
		c := ub.Cursor()
		var k, v []byte
		if resume == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(resume)
		}
		var doomed [][]byte
		for ; k != nil; k, v = c.Next() {
			t, err := recordTime(v)
			if err != nil {
				return fmt.Errorf("record %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if !t.Before(stop) {
				return deleteKeys(ub, doomed, &n)
			}
			if t.Before(before) {
				doomed = append(doomed, bytes.Clone(k))
				if len(doomed) == pruneChunk {
					if k, _ = c.Next(); k != nil {
						next = bytes.Clone(k)
					}
					return deleteKeys(ub, doomed, &n)
				}
			}
		}
		return deleteKeys(ub, doomed, &n)
	})
	if err != nil {
		return 0, nil, err
	}
	return n, next, nil
}

func deleteKeys(b *bolt.Bucket, keys [][]byte, n *int) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	*n = len(keys)
	return nil
}

func (db *DB) pruneRollups(g grain, cut int64, horizonKey []byte) (more bool, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		rb := sub(tx, bucketRollups)
		b := rb.Bucket(g.bucket)
		end := rollupKey(cut)
		var doomed [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			doomed = append(doomed, bytes.Clone(k))
			if len(doomed) == pruneChunk {
				more = true
				break
			}
		}
		var n int
		if err := deleteKeys(b, doomed, &n); err != nil {
			return err
		}
		if horizonKey != nil {
			if v := rb.Get(horizonKey); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= cut {
				return nil
			}
			return rb.Put(horizonKey, be64(uint64(max(cut, 0))))
		}
		return nil
	})
	return more, err
}

// RunRetention prunes now and then every hour until ctx ends. retention is
// asked each time, so a changed setting applies without a restart; ≤ 0
// keeps records forever (rollups are still pruned).
func (db *DB) RunRetention(ctx context.Context, retention func() time.Duration) {
	db.runRetention(ctx, retention, time.Hour, nil)
}

func (db *DB) runRetention(ctx context.Context, retention func() time.Duration, every time.Duration, pruned func(int, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for ctx.Err() == nil {
		var before time.Time
		if d := retention(); d > 0 {
			before = db.now().Add(-d)
		}
		n, err := db.Prune(before)
		if err != nil {
			db.log.Error("retention", "err", err)
		} else if n > 0 {
			db.log.Info("retention pruned records", "deleted", n, "before", before)
		}
		if pruned != nil {
			pruned(n, err)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

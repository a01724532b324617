package storage

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// writeRecords stores recs with fresh IDs (set in place) and adds them to
// the rollups, in the caller's transaction. bbolt keeps the value slices
// until commit, so every value gets its own; arena hands them out of one
// allocation per few hundred records.
func writeRecords(tx *bolt.Tx, recs []Record) error {
	var arena []byte
	ub := sub(tx, bucketUsage)
	ub.FillPercent = 0.95 // keys only ever append: pack pages full
	for i := range recs {
		id, err := ub.NextSequence()
		if err != nil {
			return err
		}
		recs[i].ID = id
		start := len(arena)
		if cap(arena)-start < 1024 {
			arena = make([]byte, 0, 256<<10) // the old arena stays alive through its slices
			start = 0
		}
		arena = encodeRecord(arena, &recs[i])
		if err := ub.Put(be64(id), arena[start:len(arena):len(arena)]); err != nil {
			return fmt.Errorf("put record %d: %w", id, err)
		}
	}
	return addToRollups(tx, recs)
}

func addToRollups(tx *bolt.Tx, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	rb := sub(tx, bucketRollups)
	for _, g := range grains {
		b := rb.Bucket(g.bucket)
		b.FillPercent = 0.9
		groups := map[int64]*rollup{}
		var order []int64
		for i := range recs {
			k := g.start(recs[i].Time)
			r := groups[k]
			if r == nil {
				r = &rollup{}
				if v := b.Get(rollupKey(k)); v != nil {
					if err := r.mergeEncoded(v); err != nil {
						return fmt.Errorf("rollup %s %d: %w", g.bucket, k, err)
					}
				}
				groups[k] = r
				order = append(order, k)
			}
			r.apply(&recs[i])
		}
		for _, k := range order {
			if err := b.Put(rollupKey(k), groups[k].encode(nil)); err != nil {
				return fmt.Errorf("put rollup %s %d: %w", g.bucket, k, err)
			}
		}
	}
	return nil
}

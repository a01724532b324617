package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket and key names. They are part of the on-disk format: never rename
// one; a layout change is a new migration.
var (
	bucketRoot     = []byte("v1")
	keyVersion     = []byte("version")
	bucketSettings = []byte("settings")
	bucketSecrets  = []byte("secrets")
	bucketUsage    = []byte("usage")
	bucketRollups  = []byte("rollups")
	bucketMinute   = []byte("minute")
	bucketHour     = []byte("hour")
	bucketDay      = []byte("day")
	bucketCache    = []byte("cache")
	bucketFilters  = []byte("filters")

	// keyMinuteHorizon and keyHourHorizon (in rollups) hold the Unix second
	// before which Prune deleted minute and hour rollups, so queries know
	// to widen their edges there instead of silently missing data.
	keyMinuteHorizon = []byte("minute_horizon")
	keyHourHorizon   = []byte("hour_horizon")
)

// SchemaVersion is the layout this Ferry writes: the number of migrations.
// A fresh file is version 0 and runs every migration in order, so the path
// that builds a new database is the same one that upgrades an old one.
const SchemaVersion = 3

type migration struct {
	version uint64 // the file's version once it has run
	name    string
	apply   func(tx *bolt.Tx) error
}

// migrations run in order, each in its own transaction that also writes the
// new version, so a crash between two leaves a file at a valid version.
// Append only; every entry needs a case in TestMigrations.
var migrations = []migration{
	{1, "create v1 with settings, secrets and usage buckets", migrateV1},
	{2, "add minute/hour/day rollups, rebuilt from the usage records", migrateV2},
	{3, "add the cache and filters buckets", migrateV3},
}

func migrateV1(tx *bolt.Tx) error {
	r, err := tx.CreateBucketIfNotExists(bucketRoot)
	if err != nil {
		return err
	}
	for _, name := range [][]byte{bucketSettings, bucketSecrets, bucketUsage} {
		if _, err := r.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

func migrateV2(tx *bolt.Tx) error {
	rb, err := root(tx).CreateBucketIfNotExists(bucketRollups)
	if err != nil {
		return err
	}
	for _, g := range grains {
		if _, err := rb.CreateBucketIfNotExists(g.bucket); err != nil {
			return fmt.Errorf("bucket %s: %w", g.bucket, err)
		}
	}
	// Chunks bound memory: records are nearly in time order, so each chunk
	// touches few rollups.
	const chunk = 4096
	recs := make([]Record, 0, chunk)
	c := sub(tx, bucketUsage).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := decodeRecord(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return err
		}
		recs = append(recs, r)
		if len(recs) == chunk {
			if err := addToRollups(tx, recs); err != nil {
				return err
			}
			recs = recs[:0]
		}
	}
	return addToRollups(tx, recs)
}

func migrateV3(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketCache, bucketFilters} {
		if _, err := root(tx).CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

// readVersion: 0 for a file without the v1 bucket (new, or not Ferry's).
func readVersion(tx *bolt.Tx) (uint64, error) {
	r := tx.Bucket(bucketRoot)
	if r == nil {
		return 0, nil
	}
	v := r.Get(keyVersion)
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: schema version key missing or malformed", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(v), nil
}

func (db *DB) migrate() error {
	var have uint64
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		have, err = readVersion(tx)
		return err
	}); err != nil {
		return fmt.Errorf("read schema version of %s: %w", db.path, err)
	}
	if have > SchemaVersion {
		return fmt.Errorf("%s has schema version %d but this Ferry knows only up to %d; run a newer Ferry or use another data directory: %w",
			db.path, have, SchemaVersion, ErrSchemaTooNew)
	}
	for _, m := range migrations[have:] {
		start := time.Now()
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			if err := m.apply(tx); err != nil {
				return err
			}
			return root(tx).Put(keyVersion, be64(m.version))
		})
		if err != nil {
			return fmt.Errorf("migrate %s to schema version %d (%s): %w", db.path, m.version, m.name, err)
		}
		db.log.Info("database migrated", "path", db.path, "version", m.version, "migration", m.name, "took", time.Since(start))
	}
	return nil
}

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

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

// Each migration is frozen: it names its buckets itself and calls no code
// that follows the current schema (migrate_v2.go says why), so it writes
// exactly the layout of its version however the live code changes.
// TestMigrationsFrozen reads this source and enforces it.

func migrateV1(tx *bolt.Tx) error {
	r, err := tx.CreateBucketIfNotExists([]byte("v1"))
	if err != nil {
		return err
	}
	for _, name := range []string{"settings", "secrets", "usage"} {
		if _, err := r.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

func migrateV3(tx *bolt.Tx) error {
	for _, name := range []string{"cache", "filters"} {
		if _, err := tx.Bucket([]byte("v1")).CreateBucketIfNotExists([]byte(name)); err != nil {
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

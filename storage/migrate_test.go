package storage

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Files at every earlier schema version are built here by writing that
// version's layout by hand, not by running the migrations, so a change to
// an old migration shows up as a failure.

var fixtureRecords = func() []Record {
	rng := rand.New(rand.NewPCG(11, 12))
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]Record, 500)
	for i := range recs {
		recs[i] = randomRecord(rng, base.Add(time.Duration(i)*7*time.Minute), i)
		recs[i].ID = uint64(i + 1)
		// Files of those versions predate the dedup cache's fields: the
		// frozen migrations rightly don't sum them.
		recs[i].Coalesced, recs[i].SavedUSD, recs[i].SavedTokens = false, 0, 0
	}
	return recs
}()

func putAll(b *bolt.Bucket, kv map[string]string) error {
	for k, v := range kv {
		if err := b.Put([]byte(k), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

// fixtures[v] writes a file at schema version v.
var fixtures = map[uint64]func(tx *bolt.Tx) error{
	0: func(tx *bolt.Tx) error { return nil }, // a new, empty file
	1: fixtureV1,
	2: func(tx *bolt.Tx) error {
		if err := fixtureV1(tx); err != nil {
			return err
		}
		r := tx.Bucket([]byte("v1"))
		if err := r.Put([]byte("version"), be64(2)); err != nil {
			return err
		}
		rb, _ := r.CreateBucket([]byte("rollups"))
		for _, name := range []string{"minute", "hour", "day"} {
			if _, err := rb.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		// Version 2's rollups, written by the frozen migration's own code:
		// today's rollup code follows today's format.
		var recs []v2Record
		for i := range fixtureRecords {
			v, err := v2DecodeRecord(encodeRecord(nil, &fixtureRecords[i]))
			if err != nil {
				return err
			}
			recs = append(recs, v)
		}
		return v2AddToRollups(rb, recs)
	},
}

func fixtureV1(tx *bolt.Tx) error {
	r, err := tx.CreateBucket([]byte("v1"))
	if err != nil {
		return err
	}
	if err := r.Put([]byte("version"), be64(1)); err != nil {
		return err
	}
	s, _ := r.CreateBucket([]byte("settings"))
	if err := putAll(s, map[string]string{"retention": `"30d"`, "routes": `{"choice":"auto"}`}); err != nil {
		return err
	}
	sec, _ := r.CreateBucket([]byte("secrets"))
	if err := putAll(sec, map[string]string{"api_key": "sk-ant-fixture"}); err != nil {
		return err
	}
	u, _ := r.CreateBucket([]byte("usage"))
	for i := range fixtureRecords {
		rec := &fixtureRecords[i]
		if err := u.Put(be64(rec.ID), encodeRecord(nil, rec)); err != nil {
			return err
		}
	}
	return u.SetSequence(uint64(len(fixtureRecords)))
}

// checks[v] verifies what migration v did, on a file migrated from an
// earlier version. hadData says whether the fixture held records.
var checks = map[uint64]func(t *testing.T, db *DB, hadData bool){
	1: func(t *testing.T, db *DB, hadData bool) {
		db.bolt.View(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketSettings, bucketSecrets, bucketUsage} {
				if sub(tx, b) == nil {
					t.Errorf("bucket %s missing", b)
				}
			}
			return nil
		})
	},
	2: func(t *testing.T, db *DB, hadData bool) {
		s, err := db.Summary(time.Unix(0, 0), time.Now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !hadData {
			if s.Requests != 0 {
				t.Errorf("empty file has %d requests in rollups", s.Requests)
			}
			return
		}
		compareSummary(t, "rollups rebuilt by migration", s, brute(fixtureRecords, s.From, s.To))
	},
	3: func(t *testing.T, db *DB, hadData bool) {
		db.bolt.View(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketCache, bucketFilters} {
				if sub(tx, b) == nil {
					t.Errorf("bucket %s missing", b)
				} else if n := sub(tx, b).Stats().KeyN; n != 0 {
					t.Errorf("bucket %s holds %d keys", b, n)
				}
			}
			return nil
		})
	},
}

func buildFixture(t *testing.T, v uint64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ferry.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(fixtures[v]); err != nil {
		t.Fatalf("build version %d fixture: %v", v, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEveryMigrationHasTest(t *testing.T) {
	if len(migrations) != SchemaVersion {
		t.Fatalf("%d migrations but SchemaVersion is %d", len(migrations), SchemaVersion)
	}
	for i, m := range migrations {
		if m.version != uint64(i+1) {
			t.Errorf("migration %d (%s) says version %d", i, m.name, m.version)
		}
		if checks[m.version] == nil {
			t.Errorf("migration to version %d (%s) has no check in migrate_test.go", m.version, m.name)
		}
		if fixtures[m.version-1] == nil {
			t.Errorf("no fixture for version %d, the input of migration %q", m.version-1, m.name)
		}
	}
}

func TestMigrateFromEveryVersion(t *testing.T) {
	for v := uint64(0); v < SchemaVersion; v++ {
		t.Run("from v"+itoa(int(v)), func(t *testing.T) {
			path := buildFixture(t, v)
			db := openTest(t, path)
			hadData := v >= 1
			for _, m := range migrations[v:] {
				checks[m.version](t, db, hadData)
			}
			db.bolt.View(func(tx *bolt.Tx) error {
				if got, err := readVersion(tx); err != nil || got != SchemaVersion {
					t.Errorf("version after migration = %d, %v", got, err)
				}
				return nil
			})
			if hadData {
				var ret string
				if found, err := db.GetSetting("retention", &ret); err != nil || !found || ret != "30d" {
					t.Errorf("setting lost: %q %v %v", ret, found, err)
				}
				if key, found, err := db.GetSecret("api_key"); err != nil || !found || key != "sk-ant-fixture" {
					t.Errorf("secret lost: %v %v", found, err)
				}
				got, err := db.Records(0, 10000)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(fixtureRecords) {
					t.Fatalf("%d records after migration, want %d", len(got), len(fixtureRecords))
				}
				sameRecord(t, got[0], fixtureRecords[len(fixtureRecords)-1])
				checks[2](t, db, true) // rollups agree with the records, whichever version built them
			}
			// New records continue the sequence and land in the rollups.
			writeDirect(t, db, []Record{{Time: time.Now(), Path: "/v1/messages", Status: 200}})
			last, _ := db.Records(0, 1)
			if want := uint64(len(fixtureRecords)) + 1; hadData && last[0].ID != want {
				t.Errorf("next ID %d, want %d", last[0].ID, want)
			}
			// Opening again is a no-op.
			db.Close()
			openTest(t, path)
		})
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db := openTest(t, path)
	db.bolt.Update(func(tx *bolt.Tx) error { return root(tx).Put(keyVersion, be64(SchemaVersion+1)) })
	db.Close()
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
	for _, want := range []string{path, "version " + itoa(SchemaVersion+1), "up to " + itoa(SchemaVersion)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestRefusesMissingVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucketRoot); return err })
	b.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}

package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configure Open. The zero value is what Ferry runs with.
type Options struct {
	// LockTimeout is how long Open waits for the file lock before failing
	// with ErrLocked. 0 means 1 s: long enough to ride out a Ferry that is
	// just quitting, short enough that a second Ferry fails fast instead of
	// hanging.
	LockTimeout time.Duration

	// NoSync skips fsync on commit. Only for benchmarks and for building test
	// fixtures: a crash may then lose or corrupt recent writes.
	NoSync bool

	// Logger receives migrations and background errors. nil discards.
	Logger *slog.Logger

	// Now is the clock for retention horizons. nil means time.Now; tests set it.
	Now func() time.Time
}

// DB is Ferry's database: one bbolt file holding settings, secrets, usage
// records and their rollups. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	path string
	log  *slog.Logger
	now  func() time.Time
}

// Open opens (creating if needed) the database at path, with mode 0600 in a
// directory created 0700, and migrates it to the current schema.
func Open(path string, o Options) (*DB, error) {
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory for %s: %w", path, err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      o.LockTimeout,
		NoSync:       o.NoSync,
		FreelistType: bolt.FreelistMapType, // faster than the array freelist once the file holds months of records
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, lockedError(path)
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// The umask cannot widen 0600, but a file created by hand or copied in
	// may be readable by others; it holds secrets, so narrow it.
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				bdb.Close()
				return nil, fmt.Errorf("restrict permissions of %s: %w", path, err)
			}
		}
	}
	db := &DB{bolt: bdb, path: path, log: o.Logger, now: o.Now}
	if err := db.migrate(); err != nil {
		bdb.Close()
		return nil, err
	}
	return db, nil
}

func lockedError(path string) error {
	how := fmt.Sprintf("find it with `lsof %s` or `fuser %s`", path, path)
	switch runtime.GOOS {
	case "windows":
		how = "find it in Task Manager (ferry.exe)"
	case "darwin":
		how = fmt.Sprintf("find it with `lsof %s` or in Activity Monitor", path)
	}
	return fmt.Errorf("open %s: another Ferry process holds this database (%s); quit it, or give this one another data directory: %w",
		path, how, ErrLocked)
}

// Close closes the database. Stop the Recorder (end its Run) first.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file the database lives in.
func (db *DB) Path() string { return db.path }

// root returns the v1 bucket; it exists in every migrated file.
func root(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketRoot) }

func sub(tx *bolt.Tx, name []byte) *bolt.Bucket { return root(tx).Bucket(name) }

// GetSetting decodes the JSON value stored under key into into. found is
// false (and into untouched) when the key was never set.
func (db *DB) GetSetting(key string, into any) (found bool, err error) {
	if key == "" {
		return false, errors.New("get setting: empty key")
	}
	var raw []byte
	err = db.bolt.View(func(tx *bolt.Tx) error {
		if v := sub(tx, bucketSettings).Get([]byte(key)); v != nil {
			raw = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("get setting %q: %w", key, err)
	}
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return true, fmt.Errorf("decode setting %q: %w", key, err)
	}
	return true, nil
}

// PutSetting stores v under key as JSON.
func (db *DB) PutSetting(key string, v any) error {
	if key == "" {
		return errors.New("put setting: empty key")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode setting %q: %w", key, err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return sub(tx, bucketSettings).Put([]byte(key), raw)
	})
	if err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
}

// GetSecret returns the secret stored under name. Secrets live in the same
// 0600 file as everything else; Ferry keeps them here only when the OS has no
// keychain. Errors never contain the value.
func (db *DB) GetSecret(name string) (string, bool, error) {
	var (
		val   string
		found bool
	)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if v := sub(tx, bucketSecrets).Get([]byte(name)); v != nil {
			val, found = string(v), true
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("get secret %q: %w", name, err)
	}
	return val, found, nil
}

// PutSecret stores value under name, replacing any earlier value.
func (db *DB) PutSecret(name, value string) error {
	if name == "" {
		return errors.New("put secret: empty name")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return sub(tx, bucketSecrets).Put([]byte(name), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("put secret %q: %w", name, err)
	}
	return nil
}

// DeleteSecret removes name; deleting a missing secret is not an error.
func (db *DB) DeleteSecret(name string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return sub(tx, bucketSecrets).Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("delete secret %q: %w", name, err)
	}
	return nil
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// DeleteSetting removes key; removing a key that is not there is no error.
func (db *DB) DeleteSetting(key string) error {
	if key == "" {
		return errors.New("delete setting: empty key")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return sub(tx, bucketSettings).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("delete setting %q: %w", key, err)
	}
	return nil
}

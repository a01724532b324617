package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"github.com/ferry-gateway/ferry/proxy/secrets"
)

// legacySecrets are the names Ferry kept in the database's secrets bucket
// before the secrets file; migrateSecrets moves them out.
var legacySecrets = []string{secretLocalToken, secretAPIKey}

// dbSecrets is the database's old secrets API, read once to migrate.
type dbSecrets interface {
	GetSecret(name string) (string, bool, error)
	DeleteSecret(name string) error
}

// migrateSecrets moves the secrets a database from before the secrets
// file holds into the file, then deletes them from the database. Their
// bytes may stay in the database's free pages until it is compacted
// (`ferry db compact`): the log says so once.
func migrateSecrets(db dbSecrets, file *secrets.Store, log *slog.Logger) error {
	moved := 0
	for _, name := range legacySecrets {
		v, ok, err := db.GetSecret(name)
		if err != nil {
			return fmt.Errorf("migrate secrets: %w", err)
		}
		if !ok {
			continue
		}
		if _, have := file.Get(name); !have {
			if err := file.Put(name, v); err != nil {
				return fmt.Errorf("migrate secrets: %w", err)
			}
		}
		if err := db.DeleteSecret(name); err != nil {
			return fmt.Errorf("migrate secrets: %w", err)
		}
		moved++
	}
	if moved > 0 {
		log.Warn("secrets moved from ferry.db to secrets.json; old copies may remain in ferry.db's free pages until you run `ferry db compact` with Ferry stopped", "count", moved)
	}
	return nil
}

// checkDBFile refuses a ferry.db that is a symlink or another user's, and
// narrows one of ours that others can read to 0600. A missing file is
// reported wrapped in fs.ErrNotExist (the first run).
func checkDBFile(path string) error {
	err := secrets.CheckFile(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return err
	}
	fi, lerr := os.Lstat(path)
	if lerr == nil && fi.Mode().IsRegular() && ownedByUs(fi) {
		// Only the mode is wrong: ours to fix.
		if cerr := os.Chmod(path, 0o600); cerr == nil {
			return nil
		}
	}
	return fmt.Errorf("database: %w", err)
}

// ownedByUs says whether CheckFile's refusal was not about the owner.
func ownedByUs(fi fs.FileInfo) bool {
	return secrets.Owner(fi) == os.Getuid()
}

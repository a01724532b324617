package storage

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "data", "ferry.db")
	db := openTest(t, path)
	if db.Path() != path {
		t.Errorf("Path = %q, want %q", db.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode %o, want 600", got)
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode %o, want 700", got)
	}
}

func TestOpenNarrowsWideMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "ferry.db")
	db := openTest(t, path)
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	openTest(t, path)
	fi, _ := os.Stat(path)
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode %o after reopen, want 600", got)
	}
}

func TestSecondOpenFailsWithErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	openTest(t, path)
	// In-process works: bbolt locks with flock, which is per open file.
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	for _, want := range []string{path, "another Ferry process"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	type routes struct {
		Choice string            `json:"choice"`
		Names  map[string]string `json:"names"`
	}
	var got routes
	found, err := db.GetSetting("routes", &got)
	if err != nil || found {
		t.Fatalf("GetSetting on empty db = %v, %v; want false, nil", found, err)
	}
	want := routes{Choice: "auto", Names: map[string]string{"home": "socks5://127.0.0.1:1080"}}
	if err := db.PutSetting("routes", want); err != nil {
		t.Fatal(err)
	}
	found, err = db.GetSetting("routes", &got)
	if err != nil || !found {
		t.Fatalf("GetSetting = %v, %v", found, err)
	}
	if got.Choice != want.Choice || got.Names["home"] != want.Names["home"] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	var wrong int
	if _, err := db.GetSetting("routes", &wrong); err == nil {
		t.Error("decoding into the wrong type did not fail")
	}
	if err := db.PutSetting("", 1); err == nil {
		t.Error("empty key accepted")
	}
	if err := db.PutSetting("bad", func() {}); err == nil {
		t.Error("unencodable value accepted")
	}
}

func TestSettingsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting("retention", "90d"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, path)
	var s string
	if found, err := db.GetSetting("retention", &s); err != nil || !found || s != "90d" {
		t.Fatalf("after reopen: %q, %v, %v", s, found, err)
	}
}

func TestSecrets(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "ferry.db"))
	if _, found, err := db.GetSecret("api_key"); err != nil || found {
		t.Fatalf("missing secret: found=%v err=%v", found, err)
	}
	if err := db.PutSecret("api_key", "sk-ant-test"); err != nil {
		t.Fatal(err)
	}
	if v, found, err := db.GetSecret("api_key"); err != nil || !found || v != "sk-ant-test" {
		t.Fatalf("GetSecret = %q, %v, %v", v, found, err)
	}
	if err := db.PutSecret("api_key", "sk-ant-2"); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := db.GetSecret("api_key"); v != "sk-ant-2" {
		t.Fatalf("overwrite: got %q", v)
	}
	if err := db.DeleteSecret("api_key"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := db.GetSecret("api_key"); found {
		t.Fatal("secret still there after delete")
	}
	if err := db.DeleteSecret("never-set"); err != nil {
		t.Fatalf("deleting a missing secret: %v", err)
	}
}

package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Issue 14: a cleared secret stayed readable in ferry.db's free pages.
// Compact rewrites the file with its live data only.
func TestCompactDropsFreedBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "sk-ant-api03-freed-but-not-gone-000000000000"
	if err := db.PutSecret("api_key", secret); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting("kept", "still here"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSecret("api_key"); err != nil {
		t.Fatal(err)
	}
	// Locked while open.
	if _, _, err := Compact(path); err == nil {
		t.Fatal("Compact ran on a database in use")
	}
	db.Close()
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte(secret)) {
		t.Skip("bbolt reused the page: nothing to show")
	}
	if _, _, err := Compact(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(secret)) {
		t.Fatal("the deleted secret is still in the file after Compact")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %#o after Compact", fi.Mode().Perm())
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if ok, err := db.GetSetting("kept", &v); !ok || err != nil || v != "still here" {
		t.Fatalf("live data after Compact: %q %v %v", v, ok, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files left beside the database: %d entries", len(entries))
	}
}

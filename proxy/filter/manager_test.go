package filter

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
)

func openDB(t *testing.T, path string) *storage.DB {
	t.Helper()
	db, err := storage.Open(path, storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// The lists live in a real bbolt file: changes survive a restart, the
// built-in list keeps only its switches, and the version follows.
func TestManagerPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db := openDB(t, path)
	m, err := NewManager(db, testKey)
	if err != nil {
		t.Fatal(err)
	}
	v0 := m.Version()
	if _, err := m.Add("words", Entry{Pattern: "机密项目", Action: Block}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add("words", Entry{Pattern: "(bad", Regex: true}); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("bad regex: %v", err)
	}
	if err := m.Enable(SecretsList, 4, false); err != nil {
		t.Fatal(err)
	}
	if err := m.SetMode(SecretsList, "", Redact); err != nil {
		t.Fatal(err)
	}
	v1 := m.Version()
	if v1 == v0 {
		t.Fatal("version unchanged")
	}
	if err := m.Remove(SecretsList, 1); !errors.Is(err, ErrBuiltin) {
		t.Fatalf("removing a built-in entry: %v", err)
	}
	db.Close()

	db = openDB(t, path)
	defer db.Close()
	m, err = NewManager(db, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != v1 {
		t.Fatal("version differs after restart")
	}
	sec, _ := m.List(SecretsList)
	if !sec.Entries[3].Disabled || sec.ResponseMode != Redact || sec.RequestMode != Redact || len(sec.Entries) != len(builtinSecrets) {
		t.Fatalf("secrets switches lost: %+v", sec.Entries[3])
	}
	res := m.Set().FilterRequest("/v1/messages", []byte(`{"messages":[{"role":"user","content":"机密项目 `+tGitHub+`"}]}`), false)
	if res.Blocked == nil || res.Blocked.Rule.List != "words" {
		t.Fatalf("%+v", res.Blocked)
	}
	if err := m.Delete("words"); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(SecretsList); !errors.Is(err, ErrBuiltin) {
		t.Fatalf("%v", err)
	}
}

package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestStoreRoundTripAndRewriteWhole(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("local_token", "sk-ferry-abc"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("api_key", "sk-ant-api03-cleared-later"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("api_key"); err != nil {
		t.Fatal(err)
	}
	// A cleared secret leaves no trace anywhere in the data dir.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if bytes.Contains(b, []byte("cleared-later")) {
			t.Fatalf("cleared secret still in %s", e.Name())
		}
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s2.Get("local_token"); !ok || v != "sk-ferry-abc" {
		t.Fatalf("reopened local_token = %q, %v", v, ok)
	}
	if _, ok := s2.Get("api_key"); ok {
		t.Fatal("deleted secret came back")
	}
}

func TestInstallKeyStableAndDistinct(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.InstallKey("cache")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.InstallKey("placeholder")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Fatalf("install keys: %d bytes, distinct=%v", len(a), !bytes.Equal(a, b))
	}
	s2, _ := Open(dir)
	a2, err := s2.InstallKey("cache")
	if err != nil || !bytes.Equal(a, a2) {
		t.Fatalf("install key changed across opens (err %v)", err)
	}
	if _, err := s.InstallKey("Bad Name"); err == nil {
		t.Fatal("a name outside [a-z0-9_./-] was accepted")
	}
}

func TestDamagedFileNotQuoted(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("sk-ant-leak{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("sk-ant-leak")) {
		t.Fatalf("err = %v: want a refusal that does not quote the file", err)
	}
}

func ExampleStore_InstallKey() {
	dir, _ := os.MkdirTemp("", "ferry-example")
	defer os.RemoveAll(dir)
	s, _ := Open(dir)
	k, _ := s.InstallKey("cache") // the cache's HMAC key, the same on every start
	_ = k
}

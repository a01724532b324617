package storage

import (
	"path/filepath"
	"strings"
	"testing"
)

// Filter lists survive a reopen of a real file, and their bounds hold.
func TestFilterLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutFilterList("secrets", []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutFilterList("机密", []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutFilterList(strings.Repeat("x", MaxFilterListName+1), nil); err == nil {
		t.Fatal("long name accepted")
	}
	if err := db.PutFilterList("big", make([]byte, MaxFilterListSize+1)); err == nil {
		t.Fatal("oversized list accepted")
	}
	if err := db.DeleteFilterList("机密"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteFilterList("missing"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.FilterLists()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got["secrets"]) != `{"v":1}` {
		t.Fatalf("%q", got)
	}
}

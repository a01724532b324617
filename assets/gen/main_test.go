package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed icons are what the generator draws: a change to the
// drawing code must come with `go generate ./assets`.
func TestCommittedIconsAreCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := generate(dir); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 10 {
		t.Fatalf("generated %d files, want 10", len(files))
	}
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", f.Name()))
		if err != nil {
			t.Fatalf("%s not committed: %v", f.Name(), err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("assets/%s is stale: run go generate ./assets", f.Name())
		}
	}
}

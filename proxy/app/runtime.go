package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RuntimeFile is written in the data dir while Ferry runs, so that every
// `ferry` subcommand can find the running instance: bbolt lets one process
// hold the database, so the others must go through its admin API.
const RuntimeFile = "runtime.json"

// Runtime is what runtime.json holds.
type Runtime struct {
	Listen     string    `json:"listen"`
	PID        int       `json:"pid"`
	AdminToken string    `json:"admin_token"`
	Version    string    `json:"version"`
	Started    time.Time `json:"started"`
}

// BaseURL is the URL clients and subcommands use to reach the running Ferry.
func (r Runtime) BaseURL() string { return "http://" + r.Listen }

func writeRuntime(dir string, rt Runtime) error {
	b, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", RuntimeFile, err)
	}
	tmp := filepath.Join(dir, RuntimeFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, RuntimeFile)); err != nil {
		return fmt.Errorf("write %s: %w", RuntimeFile, err)
	}
	return nil
}

// ReadRuntime reads runtime.json from the data dir. A missing file is
// reported with an error wrapping fs.ErrNotExist: nothing runs there.
func ReadRuntime(dir string) (Runtime, error) {
	var rt Runtime
	b, err := os.ReadFile(filepath.Join(dir, RuntimeFile))
	if err != nil {
		return rt, fmt.Errorf("read %s: %w", RuntimeFile, err)
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		return rt, fmt.Errorf("read %s: %w", RuntimeFile, err)
	}
	return rt, nil
}

func removeRuntime(dir string, pid int) error {
	rt, err := ReadRuntime(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	// Only remove our own file: a second instance may have replaced it.
	if err == nil && rt.PID != pid {
		return nil
	}
	if err := os.Remove(filepath.Join(dir, RuntimeFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", RuntimeFile, err)
	}
	return nil
}

package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-gateway/ferry/proxy/secrets"
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

// ErrStaleRuntime is wrapped by ReadRuntime when runtime.json names a
// process that no longer runs (Ferry was killed, crashed, or the machine
// lost power): its port may now belong to anyone.
var ErrStaleRuntime = errors.New("stale runtime.json")

// BaseURL is the URL subcommands use to reach the running Ferry: always
// over loopback, whatever the listen address. A wildcard or remote listen
// address is reached at 127.0.0.1 (or ::1) on its port, so the admin token
// and any secret never leave the host.
func (r Runtime) BaseURL() string {
	host, port, err := net.SplitHostPort(r.Listen)
	if err != nil {
		return "http://127.0.0.1"
	}
	ip := net.ParseIP(host)
	switch {
	case ip != nil && ip.IsLoopback():
		return "http://" + net.JoinHostPort(host, port)
	case ip != nil && ip.To4() == nil:
		return "http://" + net.JoinHostPort("::1", port)
	default:
		return "http://" + net.JoinHostPort("127.0.0.1", port)
	}
}

// HelloMAC is the answer to POST /_ferry/hello: HMAC-SHA256 keyed with the
// admin token over the client's nonce followed by the listen address as
// runtime.json states it. Only the process that wrote runtime.json knows
// the token, so a program squatting on the port after Ferry died cannot
// answer, and the CLI sends it nothing secret.
func HelloMAC(adminToken string, nonce []byte, listen string) []byte {
	m := hmac.New(sha256.New, []byte(adminToken))
	m.Write(nonce)
	m.Write([]byte(listen))
	return m.Sum(nil)
}

// writeRuntime writes runtime.json through a fresh exclusive temporary
// file (never through a planted symlink, never keeping an old file's
// mode), synced and renamed into place.
func writeRuntime(dir string, rt Runtime) error {
	b, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", RuntimeFile, err)
	}
	return secrets.WriteFile(dir, RuntimeFile, b)
}

// ReadRuntime reads runtime.json from the data dir and decides whether
// it can be trusted. A missing file wraps fs.ErrNotExist: nothing runs
// there. It refuses (wrapping secrets.ErrUnsafe) a file another user
// could have planted or read: a symlink, not ours, a mode other than
// 0600, in a directory others can write. A file whose PID is not running,
// or runs as another user, wraps ErrStaleRuntime.
//
// On Windows owners and modes are not checked (see package secrets) and a
// PID is only checked for being alive; the hello challenge (HelloMAC) is
// what proves the server there.
func ReadRuntime(dir string) (Runtime, error) {
	var rt Runtime
	if err := checkRuntimeDir(dir); err != nil {
		return rt, err
	}
	path := filepath.Join(dir, RuntimeFile)
	if err := secrets.CheckFile(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return rt, fmt.Errorf("read %s: %w", RuntimeFile, err)
		}
		return rt, fmt.Errorf("not trusting %s: %w", RuntimeFile, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return rt, fmt.Errorf("read %s: %w", RuntimeFile, err)
	}
	if err := json.Unmarshal(b, &rt); err != nil {
		return rt, fmt.Errorf("read %s: %w", RuntimeFile, err)
	}
	if !processOurs(rt.PID) {
		return rt, fmt.Errorf("%w (pid %d not running)", ErrStaleRuntime, rt.PID)
	}
	return rt, nil
}

// checkRuntimeDir refuses a data dir others can write: they could have
// swapped runtime.json.
func checkRuntimeDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", RuntimeFile, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return fmt.Errorf("not trusting %s: data dir %s is not a plain directory: %w", RuntimeFile, dir, secrets.ErrUnsafe)
	}
	if uid := secrets.Owner(fi); uid >= 0 && uid != os.Getuid() {
		return fmt.Errorf("not trusting %s: data dir %s belongs to uid %d: %w", RuntimeFile, dir, uid, secrets.ErrUnsafe)
	}
	if secrets.Owner(fi) >= 0 && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("not trusting %s: data dir %s is writable by other users (mode %#o): %w", RuntimeFile, dir, fi.Mode().Perm(), secrets.ErrUnsafe)
	}
	return nil
}

// removeStaleRuntime deletes a runtime.json left by a process that is
// gone, so that nothing trusts it (Start calls it before listening).
func removeStaleRuntime(dir string) error {
	_, err := ReadRuntime(dir)
	if !errors.Is(err, ErrStaleRuntime) {
		return nil
	}
	if err := os.Remove(filepath.Join(dir, RuntimeFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale %s: %w", RuntimeFile, err)
	}
	return nil
}

func removeRuntime(dir string, pid int) error {
	rt, err := readRuntimeFile(dir)
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

// readRuntimeFile reads runtime.json without judging it.
func readRuntimeFile(dir string) (Runtime, error) {
	var rt Runtime
	b, err := os.ReadFile(filepath.Join(dir, RuntimeFile))
	if err != nil {
		return rt, err
	}
	return rt, json.Unmarshal(b, &rt)
}

// hexNonce checks a hello nonce: 16 to 64 bytes, hex-encoded.
func hexNonce(s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 16 || len(b) > 64 {
		return nil, errors.New(`want {"nonce": "<32 to 128 hex digits>"}`)
	}
	return b, nil
}

//go:build unix

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBaseURLIsAlwaysLoopback(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:7856":   "http://127.0.0.1:7856",
		"0.0.0.0:7856":     "http://127.0.0.1:7856",
		"[::]:7856":        "http://[::1]:7856",
		"[::1]:7856":       "http://[::1]:7856",
		"192.0.2.10:7856":  "http://127.0.0.1:7856",
		"ferry.lan:7856":   "http://127.0.0.1:7856",
		"[2001:db8::]:443": "http://[::1]:443",
	} {
		if got := (Runtime{Listen: listen}).BaseURL(); got != want {
			t.Errorf("listen %s: BaseURL %s, want %s (secrets never leave the host)", listen, got, want)
		}
	}
}

// Start removes a runtime.json whose process is gone, even when it then
// fails to listen: otherwise the file keeps pointing clients at a port
// someone else now holds.
func TestStartRemovesStaleRuntime(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(Runtime{Listen: busy.Addr().String(), PID: cmd.Process.Pid, AdminToken: "x"})
	if err := os.WriteFile(filepath.Join(dir, RuntimeFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRuntime(dir); !errors.Is(err, ErrStaleRuntime) {
		t.Fatalf("ReadRuntime of a dead PID: %v", err)
	}
	cfg := testConfig(dir)
	cfg.Listen = busy.Addr().String()
	srv, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	if err := srv.Start(context.Background()); err == nil {
		t.Fatal("Start on a busy port succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, RuntimeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale runtime.json still there after Start: %v", err)
	}
}

// With $HOME unset (systemd, env -i) the data dir was /tmp/ferry, which
// any local user can create first. Now it comes from the passwd entry.
func TestDefaultDataDirNeverTemp(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	d := DefaultDataDir()
	if strings.HasPrefix(d, os.TempDir()) {
		t.Fatalf("DefaultDataDir without $HOME = %s: the temp dir", d)
	}
	if d != "" && !filepath.IsAbs(d) {
		t.Fatalf("DefaultDataDir = %q, not absolute", d)
	}
	cfg := testConfig("")
	cfg.DataDir = ""
	if d == "" {
		if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), "--data-dir") {
			t.Fatalf("Open without any data dir: %v, want a request for --data-dir", err)
		}
	}
}

func TestOpenRefusesPlantedDataDirAndDB(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testConfig(link)); err == nil {
		t.Error("Open accepted a symlinked data dir")
	}
	dir := filepath.Join(base, "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(base, "victim.db")
	if err := os.WriteFile(victim, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, DBFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testConfig(dir)); err == nil {
		t.Error("Open accepted a symlinked ferry.db")
	}
	if os.Getuid() == 0 {
		foreign := filepath.Join(base, "foreign")
		if err := os.Mkdir(foreign, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(testConfig(foreign)); err == nil {
			t.Error("Open accepted a data dir owned by another user")
		}
	}
}

// `ferry key clear` and a token regeneration left the old values readable
// in ferry.db's free pages. Secrets now live in secrets.json, rewritten
// whole, and never in ferry.db.
func TestClearedSecretsLeaveNoTrace(t *testing.T) {
	dir := t.TempDir()
	srv, err := Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	const key = "sk-ant-api03-cleared-key-must-vanish-000000"
	if _, err := srv.Keys().SetAPIKey(key); err != nil {
		t.Fatal(err)
	}
	oldTok := srv.Keys().LocalToken()
	if _, err := srv.Keys().RegenerateToken(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Keys().ClearAPIKey(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		for _, s := range []string{key, oldTok} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s still holds a cleared secret (%.12s…)", e.Name(), s)
			}
		}
	}
}

// A database from before the secrets file has its secrets moved out.
func TestSecretsMigratedOutOfDatabase(t *testing.T) {
	dir := t.TempDir()
	srv, err := Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	tok := srv.Keys().LocalToken()
	if err := srv.DB().PutSecret(secretAPIKey, "sk-ant-legacy-key-0000000000"); err != nil {
		t.Fatal(err)
	}
	if err := srv.DB().PutSecret(secretLocalToken, "sk-ferry-legacy"); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "secrets.json"))
	srv.Stop(context.Background())
	_ = tok

	srv, err = Open(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	if srv.Keys().LocalToken() != "sk-ferry-legacy" || srv.Keys().APIKey() != "sk-ant-legacy-key-0000000000" {
		t.Fatalf("migrated token %q key %q", srv.Keys().LocalToken(), srv.Keys().APIKey())
	}
	if _, ok, _ := srv.DB().GetSecret(secretAPIKey); ok {
		t.Error("the key is still in the database after the migration")
	}
}

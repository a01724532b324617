//go:build unix

package secrets

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the uid the attack tests act as: another local user.
const nobody = 65534

// asNobody runs a command as uid/gid 65534, the way another local user
// would; the test skips where that is impossible (not root, no setpriv).
func asNobody(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("acting as another user needs root")
	}
	sp, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	cmd := exec.Command(sp, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// openDir is a temp dir other users can enter (t.TempDir is 0700), as a
// home directory usually is.
func openDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != "/" && p != "."; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

func TestCheckDirRefusesSymlinkAndForeignDir(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(link); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("symlinked data dir: err = %v, want ErrUnsafe", err)
	}
	if os.Getuid() == 0 {
		foreign := filepath.Join(base, "foreign")
		if err := os.Mkdir(foreign, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(foreign, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		err := CheckDir(foreign)
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "another user") {
			t.Fatalf("data dir owned by uid %d: err = %v, want a refusal naming another user", nobody, err)
		}
	}
}

func TestCheckDirNarrowsWorldWritableDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ferry")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	if err := CheckDir(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode after CheckDir = %#o, want 0700", fi.Mode().Perm())
	}
	missing := filepath.Join(t.TempDir(), "new", "ferry")
	if err := CheckDir(missing); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(missing); fi.Mode().Perm() != 0o700 {
		t.Fatalf("new data dir mode = %#o, want 0700", fi.Mode().Perm())
	}
}

func TestCheckFileRefusesPlantedFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", 0o600)
	if err := CheckFile(good); err != nil {
		t.Fatalf("0600 file of ours: %v", err)
	}
	if err := CheckFile(write("readable", 0o644)); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("0644 file: err = %v, want ErrUnsafe", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(link); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("symlink: err = %v, want ErrUnsafe", err)
	}
	if os.Getuid() == 0 {
		p := write("foreign", 0o600)
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		if err := CheckFile(p); !errors.Is(err, ErrUnsafe) {
			t.Fatalf("file owned by uid %d: err = %v, want ErrUnsafe", nobody, err)
		}
	}
}

// The old writer used the fixed name runtime.json.tmp with os.WriteFile:
// a symlink planted there made Ferry overwrite the link's target, and an
// old 0644 file kept its mode. WriteFile creates a fresh random name
// exclusively, so neither works.
func TestWriteFileIgnoresPlantedTempAndOldMode(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "runtime.json.tmp")); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "runtime.json")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dir, "runtime.json", []byte(`{"new":true}`)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the symlink's target was overwritten: %q", b)
	}
	fi, err := os.Lstat(target)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("written file mode = %#o, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(target); string(b) != `{"new":true}` {
		t.Fatalf("content = %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".runtime.json.") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

// Another local user cannot read the secrets file, even in a directory
// they can enter.
func TestSecretsFileUnreadableByAnotherUser(t *testing.T) {
	dir := openDir(t)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("api_key", "sk-ant-secret-value"); err != nil {
		t.Fatal(err)
	}
	out, err := asNobody(t, "cat", filepath.Join(dir, FileName))
	if err == nil || strings.Contains(out, "sk-ant-secret-value") {
		t.Fatalf("another user read the secrets file: %q (err %v)", out, err)
	}
}

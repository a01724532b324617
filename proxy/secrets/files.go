package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrUnsafe is wrapped by every refusal of CheckDir and CheckFile: a file
// or directory another local user could have planted or could change.
var ErrUnsafe = errors.New("unsafe")

// CheckDir makes sure dir is a directory only this user controls. It
// creates a missing dir with mode 0700. It refuses a symlink and a
// directory owned by someone else; a group- or world-writable directory
// of ours is narrowed to 0700 (another user could otherwise swap the
// files in it).
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create data dir %s: %w", dir, err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("data dir %s is a symbolic link; use the real directory with --data-dir: %w", dir, ErrUnsafe)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data dir %s is not a directory: %w", dir, ErrUnsafe)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("data dir %s belongs to another user (uid %d); use your own with --data-dir: %w", dir, uid, ErrUnsafe)
	}
	if modesApply && fi.Mode().Perm()&0o022 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("data dir %s is writable by other users and could not be narrowed to 0700: %w", dir, err)
		}
	}
	return nil
}

// CheckFile makes sure path, when it exists, is a regular file of this
// user that nobody else can read or write (mode 0600). A missing file is
// fine (it reports fs.ErrNotExist wrapped, for the caller to decide).
func CheckFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: %w", path, ErrUnsafe)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: %w", path, ErrUnsafe)
	}
	if uid, ok := ownerOf(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("%s belongs to another user (uid %d): %w", path, uid, ErrUnsafe)
	}
	if modesApply && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s has mode %#o, not 0600: other users can read it: %w", path, fi.Mode().Perm(), ErrUnsafe)
	}
	return nil
}

// WriteFile replaces dir/name with data, mode 0600, atomically: the bytes
// go to a new, randomly named file created exclusively (O_EXCL never
// follows a planted symlink and never reuses another file's mode), are
// synced, and the file is renamed over the old one.
func WriteFile(dir, name string, data []byte) error {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := filepath.Join(dir, "."+name+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, filepath.Join(dir, name))
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, werr)
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable; a failure only costs durability.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Owner is the uid owning fi, or -1 where files have no Unix owner.
func Owner(fi fs.FileInfo) int {
	if uid, ok := ownerOf(fi); ok {
		return uid
	}
	return -1
}

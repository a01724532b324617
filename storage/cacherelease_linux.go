//go:build linux

package storage

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped drops this process's mapping of the cache file's pages
// (madvise MADV_DONTNEED on bbolt's read-only shared mapping): they stay
// in the kernel's page cache and a later read maps them again from there,
// but they stop counting in Ferry's resident memory. Without it every
// answer stored is, in time, resident: bbolt walks the leaf pages of
// random keys through its mmap, and after scripts/bench.sh's 53,000
// answers Ferry showed 182 MB where its own heap was under 40 MB, which
// is what a user's task manager shows. The writer calls it after each
// write transaction (update), on the only goroutine that remaps the file.
func releaseMapped(db *bolt.DB) {
	var size int64
	if db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }) != nil || size <= 0 {
		return
	}
	// The address comes from bbolt as a uintptr and goes to the kernel as
	// one: no Go pointer is made of it.
	syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(size), syscall.MADV_DONTNEED)
}

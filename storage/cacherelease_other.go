//go:build !linux

package storage

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing here: macOS counts clean file pages outside
// a process's memory footprint, and elsewhere the OS trims them itself.
func releaseMapped(*bolt.DB) {}

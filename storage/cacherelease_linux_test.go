//go:build linux

package storage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rssFileKB is this process's resident file-backed memory.
func rssFileKB(t *testing.T) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// The cache file's pages read through bbolt's mmap stop counting in
// Ferry's resident memory once the writer has written a batch: 24 MB of
// answers read back (every page mapped) leave less than a quarter of it
// resident.
func TestCacheFilePagesNotKeptResident(t *testing.T) {
	path := filepath.Join(t.TempDir(), CacheFileName)
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	c := openTestCache(t, path, CacheOptions{Now: clock.Now, PutDelay: time.Millisecond})
	body := strings.Repeat("x", 8<<10)
	const n = 3000 // 24 MB
	for i := range n {
		for !c.Put(entry(fmt.Sprintf("k%06d", i), clock.Now(), time.Hour, body)) {
			time.Sleep(time.Millisecond) // the queue is full: let the writer catch up
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	before := rssFileKB(t)
	for i := range n {
		mustGet(t, c, fmt.Sprintf("k%06d", i)) // maps every page
	}
	read := rssFileKB(t)
	if read-before < 12<<10 {
		t.Skipf("reading 24 MB mapped only %d kB here; nothing to measure", read-before)
	}
	c.Put(entry("last", clock.Now(), time.Hour, "x"))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if after := rssFileKB(t); after-before > 6<<10 {
		t.Fatalf("resident file pages: %d kB before reading, %d after reading 24 MB, %d after a write batch", before, read, after)
	}
}

package cli

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// TestCacheCommands: a real `ferry serve` answers a repeated request from
// its cache.db (0600, beside ferry.db); `ferry cache stats` shows the
// entry and the hit; `ferry cache clear` empties it; the cache survives
// nothing it shouldn't.
func TestCacheCommands(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	dir := t.TempDir()
	p := startServe(t, dir, "--api-base", fake.URL, "--via", "direct")
	call := func() string {
		req, _ := http.NewRequest("POST", p.base+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("X-Api-Key", "sk-ant-api03-cli-test")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.Header.Get("X-Ferry-Cache")
	}
	if a, b := call(), call(); a != "miss" || b != "hit" {
		t.Fatalf("x-ferry-cache %q then %q, want miss then hit", a, b)
	}
	fi, err := os.Stat(filepath.Join(dir, storage.CacheFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache.db: %v %v", fi, err)
	}
	code, out, errOut := run(t, "", nil, "cache", "stats", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Dedup cache: on") || !strings.Contains(out, "Entries:     1,") {
		t.Fatalf("stats: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "", nil, "cache", "clear", "--older-than", "1d", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Cleared 0 cached answers; 1 left") {
		t.Fatalf("clear --older-than: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "", nil, "cache", "clear", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Cleared 1 cached answers; 0 left") {
		t.Fatalf("clear: %d\n%s%s", code, out, errOut)
	}
	if c := call(); c != "miss" {
		t.Fatalf("after clear: %q", c)
	}
	if code, _, _ := run(t, "", nil, "cache", "clear", "--older-than", "soon", "--data-dir", dir); code != 2 {
		t.Fatalf("bad --older-than: exit %d, want 2", code)
	}
}

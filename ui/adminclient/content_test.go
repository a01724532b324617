package adminclient_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/ui/adminclient"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// send posts a Messages request with text as the user's message.
func send(t *testing.T, base, text string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/messages",
		strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"`+text+`"}]}`))
	req.Header.Set("x-api-key", "sk-ant-api03-clienttest-000000000000000000000000")
	req.Header.Set("content-type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// Read to the end: a client that leaves early is recorded as a 499.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// eventually retries check for up to 10 s: the history is written by a
// recorder that never blocks the request.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !check(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// The Cache page's calls against a real core: the knobs read and changed
// (and refused out of range), a duplicate request counted as a hit with
// what it saved, and Clear emptying the store.
func TestCacheAgainstARealCore(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	ctx := context.Background()

	s, err := c.CacheSettings()
	if err != nil || s != (coreapi.CacheSettings{Enabled: true, TTL: 10 * time.Minute, CountTokensTTL: time.Hour, ModelsTTL: 10 * time.Minute, MaxBytes: 256 << 20}) {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	want := coreapi.CacheSettings{Enabled: true, TTL: 90 * time.Minute, CountTokensTTL: 2 * time.Hour, ModelsTTL: 30 * time.Second, MaxBytes: 64 << 20}
	if err := c.SetCacheSettings(want); err != nil {
		t.Fatal(err)
	}
	if s, err := c.CacheSettings(); err != nil || s != want {
		t.Fatalf("after a change: %+v %v, want %+v", s, err, want)
	}
	tiny := want
	tiny.MaxBytes = 1000
	if err := c.SetCacheSettings(tiny); err == nil {
		t.Fatal("a 1000-byte cache accepted (the knob's minimum is 1 MiB)")
	}

	for i, want := range []string{"miss", "hit"} {
		if got := send(t, srv.BaseURL(), "hello").Header.Get("x-ferry-cache"); got != want {
			t.Fatalf("request %d: x-ferry-cache %q, want %q", i, got, want)
		}
	}
	var st coreapi.CacheStats
	eventually(t, "a hit in the cache's figures", func() bool {
		st, err = c.CacheStats(ctx)
		return err == nil && st.Today.Hits == 1
	})
	if !st.On || st.Entries != 1 || st.Bytes == 0 || st.MaxBytes != 64<<20 || st.Today.Requests != 2 ||
		st.Today.Upstream() != 1 || st.Today.SavedTokens == 0 || st.Month.Hits != 1 {
		t.Fatalf("cache stats: %+v", st)
	}
	now := time.Now()
	stats, err := c.Stats(ctx, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil || stats.CacheHits != 1 || stats.SavedTokens != st.Today.SavedTokens {
		t.Fatalf("stats: cache hits %d saved %d: %v", stats.CacheHits, stats.SavedTokens, err)
	}
	// The records are written in the order the exchanges end, which
	// need not be the order they began.
	recs, err := c.Recent(ctx, 10)
	if err != nil || len(recs) != 2 || recs[0].CacheHit == recs[1].CacheHit {
		t.Fatalf("records: %+v %v", recs, err)
	}
	hit := recs[0]
	if !hit.CacheHit {
		hit = recs[1]
	}
	if hit.SavedTokens == 0 || hit.Status != 200 || hit.Tokens.Output != 0 {
		t.Fatalf("the hit's record: %+v", hit)
	}

	if n, err := c.ClearCache(ctx); err != nil || n != 1 {
		t.Fatalf("clear: %d %v", n, err)
	}
	if st, err := c.CacheStats(ctx); err != nil || st.Entries != 0 {
		t.Fatalf("after clear: %+v %v", st, err)
	}
	off := want
	off.Enabled = false
	if err := c.SetCacheSettings(off); err != nil {
		t.Fatal(err)
	}
	if got := send(t, srv.BaseURL(), "hello").Header.Get("x-ferry-cache"); got != "off" {
		t.Fatalf("cache turned off: x-ferry-cache %q", got)
	}
}

// The Filters page's calls against a real core: the built-in list, a user
// list edited (a bad regex refused with RE2's reason), switches and modes,
// the "Try it" box, and hits in the records and the stats.
func TestFiltersAgainstARealCore(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	ctx := context.Background()

	lists, err := c.FilterLists(ctx)
	if err != nil || len(lists) == 0 || lists[0].Name != "secrets" || !lists[0].Builtin || !lists[0].Enabled || lists[0].Count < 10 {
		t.Fatalf("lists: %+v %v", lists, err)
	}
	secrets, err := c.FilterList(ctx, "secrets")
	if err != nil || len(secrets.Entries) != secrets.Count || secrets.Entries[0].Name == "" {
		t.Fatalf("secrets: %+v %v", secrets, err)
	}
	if _, err := c.FilterList(ctx, "nope"); err == nil {
		t.Fatal("an unknown list: no error")
	}

	if n, err := c.AddFilterEntry("words", coreapi.FilterEntry{Pattern: "机密"}); err != nil || n != 1 {
		t.Fatalf("add: %d %v", n, err)
	}
	if _, err := c.AddFilterEntry("words", coreapi.FilterEntry{Pattern: "(", Regex: true}); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("a bad regex: %v", err)
	}
	if _, err := c.AddFilterEntry("words", coreapi.FilterEntry{Pattern: `proj-\d+`, Regex: true, Action: coreapi.FilterBlock}); err != nil {
		t.Fatal(err)
	}
	words, err := c.FilterList(ctx, "words")
	if err != nil || len(words.Entries) != 2 || words.Builtin || !words.Enabled || !words.Entries[1].Regex || words.Entries[1].Action != "block" {
		t.Fatalf("words: %+v %v", words, err)
	}

	res, err := c.TestFilters(ctx, "see proj-42 and 机密")
	if err != nil || res.Blocked == "" || len(res.Hits) != 2 {
		t.Fatalf("try it: %+v %v", res, err)
	}
	if err := c.SetFilterEntryEnabled("words", 2, false); err != nil {
		t.Fatal(err)
	}
	res, err = c.TestFilters(ctx, "see proj-42 and 机密")
	if err != nil || res.Blocked != "" || strings.Contains(res.Text, "机密") || !strings.Contains(res.Text, "proj-42") {
		t.Fatalf("with entry 2 off: %+v %v", res, err)
	}
	if err := c.SetFilterMode("words", coreapi.FilterBlock, ""); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.TestFilters(ctx, "机密"); res.Blocked == "" {
		t.Fatalf("list mode block: %+v", res)
	}
	if err := c.SetFilterListEnabled("words", false); err != nil {
		t.Fatal(err)
	}
	lists, _ = c.FilterLists(ctx)
	if len(lists) != 2 || lists[1].Name != "words" || lists[1].Enabled || lists[1].RequestMode != "block" || lists[1].Count != 2 || lists[1].Off != 1 {
		t.Fatalf("lists after the switches: %+v", lists)
	}
	if res, _ := c.TestFilters(ctx, "机密"); res.Text != "机密" {
		t.Fatalf("list off: %+v", res)
	}

	send(t, srv.BaseURL(), "my token is ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08")
	eventually(t, "the redaction in the stats", func() bool {
		now := time.Now()
		st, err := c.Stats(ctx, now.Add(-time.Hour), now.Add(time.Minute))
		return err == nil && st.FilterHits["secrets"] == 1
	})
	recs, err := c.Recent(ctx, 1)
	if err != nil || len(recs) != 1 || len(recs[0].FilterHits) != 1 || recs[0].FilterHits[0].List != "secrets" ||
		!strings.HasSuffix(recs[0].FilterHits[0].Entry, "github-token") {
		t.Fatalf("the record's hits: %+v %v", recs, err)
	}

	// Export, then import into a new list: the same entries.
	var exported bytes.Buffer
	if err := c.ExportFilterList(ctx, "words", &exported); err != nil || !strings.Contains(exported.String(), "机密") || !strings.Contains(exported.String(), `re:proj-\d+`) {
		t.Fatalf("export: %v\n%s", err, exported.String())
	}
	if n, err := c.ImportFilterList(ctx, "words-copy", exported.Bytes(), false); err != nil || n != 2 {
		t.Fatalf("import: %d %v", n, err)
	}
	if n, err := c.ImportFilterList(ctx, "words-copy", []byte("绝密\n"), true); err != nil || n != 1 {
		t.Fatalf("import replacing: %d %v", n, err)
	}
	if _, err := c.ImportFilterList(ctx, "words-copy", []byte("re:(\n"), false); err == nil {
		t.Fatal("a bad regex imported")
	}
	if err := c.DeleteFilterList("words-copy"); err != nil {
		t.Fatal(err)
	}

	if err := c.RemoveFilterEntry("words", 1); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveFilterEntry("secrets", 1); err == nil {
		t.Fatal("a built-in entry removed")
	}
	if err := c.DeleteFilterList("words"); err != nil {
		t.Fatal(err)
	}
	if lists, _ := c.FilterLists(ctx); len(lists) != 1 {
		t.Fatalf("after delete: %+v", lists)
	}
}

package app_test

import (
	"testing"

	"github.com/ferry-gateway/ferry/proxy/filter"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// TestCacheKeyFollowsFilterSet: the same request after a filter list
// changed is a miss, even when the forwarded bytes are the same: the
// cached answer was produced (and redacted) under other lists. The new
// set's answer is then cached under its own key.
func TestCacheKeyFollowsFilterSet(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := ferryOn(t, fake, "", t.TempDir())
	key := map[string]string{"x-api-key": sdkRealKey}
	body := `{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"filter version"}]}`
	call := func(want string) {
		t.Helper()
		code, hdr, out := spendCall(t, srv, "POST", "/v1/messages", body, key)
		if code != 200 || hdr.Get("X-Ferry-Cache") != want {
			t.Fatalf("x-ferry-cache %q (%d %s), want %q", hdr.Get("X-Ferry-Cache"), code, out, want)
		}
	}
	call("miss")
	call("hit")

	before := srv.Filters().Version()
	// An entry that matches nothing in the body: the forwarded bytes are
	// unchanged, only the set's version differs.
	if _, err := srv.Filters().Add("codenames", filter.Entry{Pattern: "project-bluebird"}); err != nil {
		t.Fatal(err)
	}
	if srv.Filters().Version() == before {
		t.Fatal("adding an entry kept the filter set's version")
	}
	call("miss")
	if got := string(fake.Last().Body); got != body {
		t.Fatalf("forwarded body changed: %s", got)
	}
	call("hit")

	// A list's mode for answers is part of the set too.
	if err := srv.Filters().SetMode("codenames", "", filter.Redact); err != nil {
		t.Fatal(err)
	}
	call("miss")
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("%d upstream calls, want 3", n)
	}
}

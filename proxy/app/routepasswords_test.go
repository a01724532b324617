package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// probeRoute probes the route called name and says whether it is up: the
// real SOCKS proxy accepts only the right password.
func probeRoute(t *testing.T, srv *Server, name string) bool {
	t.Helper()
	for _, h := range srv.Routes().TestNow(context.Background()) {
		if h.Route == name {
			return h.Up
		}
	}
	t.Fatalf("no route %q", name)
	return false
}

func dbHolds(t *testing.T, dir, s string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, []byte(s))
}

// Issue 14: route passwords were stored in ferry.db inside the route URLs.
// They go to the keychain or the secrets file; the route still works.
func TestRoutePasswordsKeptOutOfTheDatabase(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "alice", "s3cret-pw")
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.APIBase = fake.URL
	srv, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.Parse("office", socks.URL(true))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Routes().Add(r); err != nil {
		t.Fatal(err)
	}
	if !probeRoute(t, srv, "office") {
		t.Fatal("route down before restart")
	}
	// A rename takes the password along.
	r.Name = "work"
	if err := srv.Routes().Update("office", r); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if dbHolds(t, dir, "s3cret-pw") {
		t.Fatal("the proxy password is in ferry.db")
	}
	srv, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	if !probeRoute(t, srv, "work") {
		t.Fatal("the renamed route lost its password across a restart")
	}
	n := 0
	for _, name := range srv.Secrets().Names() {
		if strings.HasPrefix(name, "route_password/") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d route passwords in the secrets file after a rename, want 1", n)
	}
}

// A database from before keeps passwords in the route URLs: they are moved
// out at the first start.
func TestStoredRoutePasswordsMigrated(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "bob", "legacy-pw")
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, DBFile), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutSetting(route.SettingRoutes, []route.Route{{Name: "Direct", URL: route.DirectURL}, {Name: "old", URL: socks.URL(true)}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfg := testConfig(dir)
	cfg.APIBase = fake.URL
	srv, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !probeRoute(t, srv, "old") {
		t.Fatal("the migrated route does not work")
	}
	var raw []route.Route
	if _, err := srv.DB().GetSetting(route.SettingRoutes, &raw); err != nil {
		t.Fatal(err)
	}
	for _, r := range raw {
		if strings.Contains(r.URL, "legacy-pw") {
			t.Fatalf("the stored URL still holds the password: %s", r.Masked())
		}
	}
	srv.Stop(context.Background())
}

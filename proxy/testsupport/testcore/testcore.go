// Package testcore starts a real Ferry core (proxy, bbolt files, admin
// API) for the tests of packages that talk to one from outside proxy/app:
// the window process's admin client, the tray's in-process guard view.
// Like the rest of testsupport, production code never imports it.
package testcore

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
)

// Start opens and starts a core on a fresh data directory and a free
// loopback port, routing direct to apiBase, with no OS keychain; it stops
// when the test ends.
func Start(t testing.TB, apiBase string) *app.Server {
	t.Helper()
	srv, err := app.Open(app.Config{
		Listen: "127.0.0.1:0", APIBase: apiBase, DataDir: t.TempDir(), Via: "direct", Version: "test",
		Logger: slog.New(slog.DiscardHandler),
		Getenv: func(k string) string {
			if k == "FERRY_KEYRING" {
				return "off"
			}
			return ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return srv
}

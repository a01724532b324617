package settings_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/ferry-gateway/ferry/proxy/settings"
	"github.com/ferry-gateway/ferry/storage"
)

// An owner defines its knob, the composition root registers it, and the
// owner reads it once and keeps it current with a watcher.
func Example() {
	dir, _ := os.MkdirTemp("", "ferry-example")
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "ferry.db"), storage.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	maxAttempts := settings.Knob{
		Key: "retry.max_attempts", Owner: "proxy/retry", Type: settings.Integer,
		Default: "3", Min: "1", Max: "10", Applies: settings.Now,
		Help: "How many times one request is tried, across routes",
	}
	reg := settings.New(db, nil)
	if err := reg.Register(maxAttempts); err != nil {
		panic(err)
	}

	var attempts atomic.Int64 // read on every request, so an atomic
	attempts.Store(reg.Value("retry.max_attempts").Int())
	reg.Watch("retry.max_attempts", func(v settings.Value) { attempts.Store(v.Int()) })

	if _, err := reg.Set("retry.max_attempts", "5"); err != nil {
		panic(err)
	}
	fmt.Println(attempts.Load())
	_, err = reg.Set("retry.max_attempts", "50")
	fmt.Println(err)
	// Output:
	// 5
	// retry.max_attempts: "50" is not allowed; want an integer, from 1 to 10
}

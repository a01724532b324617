package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-gateway/ferry/storage"
)

// A request's life in storage: the proxy hands a Record to the Recorder,
// which writes it in a batch; the dashboard reads rollups back.
func Example() {
	dir, err := os.MkdirTemp("", "ferry-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := storage.Open(filepath.Join(dir, "ferry.db"), storage.Options{})
	if err != nil {
		log.Fatal(err) // errors.Is(err, storage.ErrLocked): another Ferry runs
	}
	defer db.Close()

	rec := storage.NewRecorder(db, storage.RecorderOptions{})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- rec.Run(ctx) }()

	start := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	rec.Record(storage.Record{
		Time: start, Method: "POST", Path: "/v1/messages", Model: "claude-sonnet-4-5", Status: 200,
		Route: "direct", Tokens: storage.Tokens{Input: 1200, Output: 300},
		Total: 2 * time.Second, CostUSD: 0.0081, PriceKnown: true,
	})
	rec.Record(storage.Record{
		Time: start.Add(time.Minute), Method: "POST", Path: "/v1/messages", Model: "claude-sonnet-4-5",
		Status: 529, ErrorType: "overloaded_error", ErrorClass: storage.ClassUpstream5xx, Route: "direct",
		Total: 300 * time.Millisecond, PriceKnown: true,
	})
	stop() // Run writes what is queued, then returns
	if err := <-done; err != nil {
		log.Fatal(err)
	}

	s, err := db.Summary(start.Add(-time.Hour), start.Add(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("requests %d, success rate %.2f, overloaded %d, cost $%.4f, tokens in %d\n",
		s.Requests, s.SuccessRate, s.Errors.ByType["overloaded_error"], s.CostUSD, s.Tokens.Input)

	latest, err := db.Records(0, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(latest[0].ID, latest[0].ErrorType)
	// Output:
	// requests 2, success rate 0.50, overloaded 1, cost $0.0081, tokens in 1200
	// 2 overloaded_error
}

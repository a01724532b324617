package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// recorderCheck reports what Ferry's own history says about the run: every
// request recorded, none dropped from the queue.
func recorderCheck(ctx context.Context, ferry target) error {
	// The recorder flushes at least every second.
	time.Sleep(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ferry.base+"/_ferry/stats?window=1h", nil)
	// Reads of the admin API need a token; the local token is one.
	req.Header.Set("X-Api-Key", ferry.key)
	resp, err := ferry.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET /_ferry/stats: %w", err)
	}
	defer resp.Body.Close()
	var s map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return fmt.Errorf("decode /_ferry/stats: %w", err)
	}
	fmt.Printf("Ferry's own history after the run (`/_ferry/stats?window=1h`): %v requests recorded of %d sent, success rate %v, records dropped from the queue %v.\n\n",
		s["requests"], ferry.sent.Load(), s["success_rate"], s["queue_dropped"])
	return nil
}

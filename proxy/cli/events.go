package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// runEvents is `ferry events`: the running Ferry's GET /_ferry/events,
// printed as it comes (one "id:", "event:" and "data:" line per event,
// heartbeat comments every 15 s) until interrupted or Ferry stops. For
// scripts and status lines; events never carry request or response
// bodies.
func runEvents(args []string, env Env) error {
	s := newSubcommand("ferry events", env)
	if err := s.parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := running(ctx, s.dataDir, env.Stderr)
	if a == nil {
		return errors.New("no Ferry is running on this data dir: start `ferry` or `ferry serve` first")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/_ferry/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("x-ferry-admin-token", a.token)
	// No client timeout: the stream lasts as long as Ferry runs.
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return fmt.Errorf("event stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("event stream: %s", resp.Status)
	}
	if _, err := io.Copy(env.Stdout, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("event stream: %w", err)
	}
	return nil
}

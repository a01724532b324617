package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Client-side connection limits of the server Serve runs. There is no
// read or write timeout for a whole request: uploads and streams may last
// as long as they keep moving (the idle timeouts see to that).
const (
	readHeaderTimeout = 30 * time.Second
	clientIdleTimeout = 2 * time.Minute
	// handlerExitWait bounds the wait for handlers after connections are
	// forcibly closed; they end at once as their contexts are cancelled.
	handlerExitWait = 5 * time.Second
)

func (p *Proxy) server() *http.Server {
	p.srvMu.Lock()
	defer p.srvMu.Unlock()
	if p.srv == nil {
		p.srv = &http.Server{
			Handler:           p.frontDoor(p),
			MaxHeaderBytes:    maxHeaderBytes,
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       clientIdleTimeout,
			ErrorLog:          slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
		}
	}
	return p.srv
}

// Serve serves the proxy on ln until ctx ends, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish for up to
// Options.DrainTimeout, then closes what is left. It returns nil after a
// shutdown, or the error that stopped serving. Serve may be called for
// several listeners; they share one server and one shutdown.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	srv := p.server()
	done := make(chan struct{})
	stopped := make(chan error, 1)
	go func() {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), p.opts.DrainTimeout)
			defer cancel()
			stopped <- p.Shutdown(dctx)
		case <-done:
			stopped <- nil
		}
	}()
	err := srv.Serve(p.limitConns(ln, MaxConns))
	if !errors.Is(err, http.ErrServerClosed) {
		close(done)
		<-stopped
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	// Serve returns as soon as shutdown begins; wait for the drain.
	if ctx.Err() != nil {
		return <-stopped
	}
	close(done)
	<-stopped
	return nil
}

// Shutdown stops accepting and waits for in-flight requests until ctx
// ends; then it closes the remaining connections (cancelling their
// upstream requests) and waits briefly for their handlers. It returns nil
// when everything drained in time, else an error saying how many requests
// were cut.
func (p *Proxy) Shutdown(ctx context.Context) error {
	srv := p.server()
	err := srv.Shutdown(ctx)
	// The bookkeeping of finished requests is quick; it ends before the
	// caller flushes the records to disk.
	defer p.books.Wait()
	if err == nil {
		return nil
	}
	left := p.inflight.Load()
	_ = srv.Close()
	deadline := time.Now().Add(handlerExitWait)
	for p.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.log.Warn("shutdown cut in-flight requests", "count", left)
	return fmt.Errorf("drain: %d requests still running: %w", left, err)
}

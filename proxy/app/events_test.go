package app_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// The event stream of a real core: pausing from the admin API and a
// request through the proxy arrive as events, and Stop ends the stream
// at once instead of waiting out the drain for it.
func TestEventsStreamOfARealCore(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	req, _ := http.NewRequest("GET", srv.BaseURL()+"/_ferry/events", nil)
	req.Header.Set(proxy.HeaderAdminToken, srv.AdminToken())
	resp, err := sdkLoopbackClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /_ferry/events: %s", resp.Status)
	}
	lines := bufio.NewScanner(resp.Body)
	nextEvent := func() string {
		t.Helper()
		for lines.Scan() {
			if name, ok := strings.CutPrefix(lines.Text(), "event: "); ok {
				if name == "route.health" {
					// The first probe round runs on its own clock and
					// may publish after the stream opened.
					continue
				}
				return name
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	if !lines.Scan() || lines.Text() != ": ferry events" {
		t.Fatalf("opening line %q", lines.Text())
	}

	pause, _ := http.NewRequest("POST", srv.BaseURL()+"/_ferry/pause", nil)
	pause.Header.Set(proxy.HeaderAdminToken, srv.AdminToken())
	if r, err := sdkLoopbackClient().Do(pause); err != nil || r.StatusCode != 200 {
		t.Fatalf("pause: %v %v", r, err)
	}
	if got := nextEvent(); got != "state.changed" {
		t.Fatalf("after pause: event %q, want state.changed", got)
	}
	msg, _ := http.NewRequest("POST", srv.BaseURL()+"/v1/messages",
		strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`))
	msg.Header.Set("x-api-key", sdkRealKey)
	msg.Header.Set("content-type", "application/json")
	if r, err := sdkLoopbackClient().Do(msg); err == nil {
		r.Body.Close()
	}
	if got := nextEvent(); got != "request.finished" {
		t.Fatalf("after a request: event %q, want request.finished", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Stop(ctx) }()
	for lines.Scan() {
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop with a reader on the stream: %v", err)
	}
}

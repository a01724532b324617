package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// serve runs p.Serve on a fresh loopback listener.
func serve(t *testing.T, p *Proxy) (url string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- p.Serve(ctx, ln) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), cancel, ch
}

func TestGracefulShutdownDrainsStream(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	url, stop, done := serve(t, h.p)

	const sc = "slow;gap=300ms;total=2s"
	req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(`{"model":"m","stream":true}`))
	req.Header.Set("X-Api-Key", clientKey)
	req.Header.Set(testsupport.ScenarioHeader, sc)
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, first); err != nil {
		t.Fatal(err)
	}
	stop() // SIGTERM, as it were, while the stream is in flight

	// New connections are refused once shutdown began.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}

	rest, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("in-flight stream cut by shutdown: %v", err)
	}
	if got := append(first, rest...); !bytes.Equal(got, fake.ExpectedBody(sc)) {
		t.Errorf("in-flight stream not whole after shutdown (%d bytes)", len(got))
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
}

func TestShutdownIsBounded(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, func(o *Options) { o.DrainTimeout = 500 * time.Millisecond })
	url, stop, done := serve(t, h.p)
	req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(`{"model":"m","stream":true}`))
	req.Header.Set("X-Api-Key", clientKey)
	req.Header.Set(testsupport.ScenarioHeader, "slow;gap=200ms;total=60s")
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	io.ReadFull(res.Body, make([]byte, 5))
	stop()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "1 requests still running") {
			t.Errorf("Serve after a cut drain: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return: the drain is not bounded")
	}
	if _, ok := fake.WaitCancelled(10 * time.Second); !ok {
		t.Error("the cut stream's upstream request was not cancelled")
	}
	if rec := h.rec.next(t); rec.Status != StatusClientClosed {
		t.Errorf("record %+v", rec)
	}
}

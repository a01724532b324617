package route

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The warm connection is opened ahead of need, carries the first request
// (no new connection reaches the API host), survives the pool's idle
// timeout, and is re-dialled in the background when it dies.
func TestWarmConnection(t *testing.T) {
	api := startFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "", "")
	// The relay counts TLS connections to the API host (classic shares:
	// it passes them all).
	relay := testsupport.StartPQResetter(t, api.URL.Host)
	target := &url.URL{Scheme: "https", Host: relay.Addr}
	st := &mapSettings{}
	routes := []Route{
		{Name: "One", URL: "socks5://" + socks.Addr, KeyShare: KeyShareClassic},
		{Name: "Two", URL: "socks5://" + socks.Addr, KeyShare: KeyShareClassic},
		// Slower than the others: never among the two kept warm.
		{Name: "Three", URL: "socks5://" + testsupport.StartDelayed(t, socks, 150*time.Millisecond).Addr, KeyShare: KeyShareClassic},
	}
	if err := st.PutSetting(SettingRoutes, routes); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ManagerOptions{Settings: st, Dial: DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second},
		Target: target, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	one := m.upstream("One")
	one.Transport.IdleConnTimeout = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The serving route and the next candidate are warm; the third is not.
	waitFor(t, "two warm routes", func() bool { return status(m, "One").Warm && status(m, "Two").Warm })
	if status(m, "Three").Warm {
		t.Fatal("a third route was kept warm")
	}
	waitFor(t, "the probes' connections", func() bool { return relay.Passed() >= 2+3 })
	time.Sleep(200 * time.Millisecond) // past the pool's idle timeout
	before := relay.Passed()
	res, body, err := roundTrip(t, one, target.String()+"/v1/models")
	if err != nil || res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Fatalf("request on the warm connection: %v %v %.80q", err, res, body)
	}
	if relay.Passed() != before {
		t.Fatalf("the request opened a connection (%d → %d): the warm one was not used", before, relay.Passed())
	}
	if last := api.Fake.Last(); last.Path != "/v1/models" {
		t.Fatalf("the fake saw %q", last.Path)
	}

	// The warm connection dies: a new one is dialled in the background.
	one.warm.mu.Lock()
	cc := one.warm.cc
	one.warm.mu.Unlock()
	cc.Close()
	waitFor(t, "a re-dialled warm connection", func() bool { return relay.Passed() == before+1 && one.Warm() })

	// road.keep_warm off: every warm connection goes.
	m.SetKeepWarm(false)
	waitFor(t, "no warm route", func() bool { return !status(m, "One").Warm && !status(m, "Two").Warm })
}

package route

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func TestProbe(t *testing.T) {
	api := startFakeAPI(t)
	plain := &url.URL{Scheme: "http", Host: api.URL.Host}
	ms := testsupport.StartMicrosocks(t, "alice", "pw")
	tp := testsupport.StartTinyproxy(t, "", "")
	stoppedSocks := testsupport.StartMicrosocks(t, "", "")
	stoppedSocks.Stop()
	cases := []struct {
		name      string
		url       string
		target    *url.URL
		up        bool
		handshake bool // a proxy handshake is timed
		tls       bool
		errHas    string
	}{
		{"direct", "direct", api.URL, true, false, true, ""},
		{"socks", "socks5://alice:pw@" + ms.Addr, api.URL, true, true, true, ""},
		{"connect", "http://" + tp.Addr, api.URL, true, true, true, ""},
		{"plain target skips TLS", "socks5://alice:pw@" + ms.Addr, plain, true, true, false, ""},
		{"wrong password", "socks5://alice:bad@" + ms.Addr, api.URL, false, false, false, "proxy rejected the credentials"},
		{"stopped", "socks5://alice:pw@" + stoppedSocks.Addr, api.URL, false, false, false, "proxy unreachable or refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := NewUpstream(Route{Name: tc.name, URL: tc.url}, DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			h := u.Probe(testCtx(t), tc.target)
			if h.Route != tc.name || h.Checked.IsZero() {
				t.Fatalf("health not stamped: %+v", h)
			}
			if h.Up != tc.up {
				t.Fatalf("Up = %v, want %v (%s)", h.Up, tc.up, h.Err)
			}
			if !tc.up {
				if !strings.Contains(h.Err, tc.errHas) || !strings.Contains(h.Err, tc.name) {
					t.Fatalf("Err %q, want it to name the route and say %q", h.Err, tc.errHas)
				}
				if strings.Contains(h.Err, "pw@") || strings.Contains(h.Err, "bad@") {
					t.Fatalf("Err leaks the password: %s", h.Err)
				}
				return
			}
			t.Logf("%s: connect %v, handshake %v, TLS %v, latency %v", tc.name, h.Connect, h.Handshake, h.TLS, h.Latency)
			if h.Err != "" || h.Connect <= 0 {
				t.Fatalf("live route: %+v", h)
			}
			if (h.Handshake > 0) != tc.handshake || (h.TLS > 0) != tc.tls {
				t.Fatalf("timings %+v: want handshake %v, TLS %v", h, tc.handshake, tc.tls)
			}
			// The fake speaks HTTP/2 over TLS: the probe times a PING on
			// its own connection too.
			if (h.Ping > 0) != tc.tls {
				t.Fatalf("HTTP/2 PING %v, want one exactly when TLS was timed", h.Ping)
			}
			if h.Latency != h.Connect+h.Handshake+h.TLS {
				t.Fatalf("Latency %v is not the sum of %+v", h.Latency, h)
			}
		})
	}
}

func TestProbeUntrustedTarget(t *testing.T) {
	api := startFakeAPI(t)
	u, err := NewUpstream(Route{Name: "d", URL: "direct"}, DialOptions{ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := u.Probe(testCtx(t), api.URL)
	if h.Up || !strings.Contains(h.Err, "--ca-file") || h.Connect <= 0 {
		t.Fatalf("want a TLS failure with the --ca-file hint: %+v", h)
	}
}

package route

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func get(t *testing.T, u *Upstream, target string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: u.Transport}).Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b), nil
}

func TestUpstreamReachesH2Target(t *testing.T) {
	api := startFakeAPI(t)
	cases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"direct", func(t *testing.T) string { return "direct" }},
		{"microsocks", func(t *testing.T) string { return "socks5://" + testsupport.StartMicrosocks(t, "", "").Addr }},
		{"microsocks auth", func(t *testing.T) string {
			return "socks5://alice:s3cr%40t@" + testsupport.StartMicrosocks(t, "alice", "s3cr@t").Addr
		}},
		{"dante", func(t *testing.T) string { return "socks5h://" + testsupport.StartDante(t, "", "").Addr }},
		{"dante auth", func(t *testing.T) string {
			return "socks5://ferryrt:pw-dante-1@" + testsupport.StartDante(t, "ferryrt", "pw-dante-1").Addr
		}},
		{"tinyproxy", func(t *testing.T) string { return "http://" + testsupport.StartTinyproxy(t, "", "").Addr }},
		{"tinyproxy auth", func(t *testing.T) string {
			return "http://bob:hunter2@" + testsupport.StartTinyproxy(t, "bob", "hunter2").Addr
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.name, tc.url(t))
			if err != nil {
				t.Fatal(err)
			}
			u, err := NewUpstream(r, DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer u.Transport.CloseIdleConnections()
			for i := 0; i < 3; i++ { // the second and third reuse the pooled connection
				resp, body, err := get(t, u, api.URL.String()+"/v1/models")
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				api.assertH2(t, resp, body)
			}
		})
	}
}

func TestUpstreamDialErrors(t *testing.T) {
	api := startFakeAPI(t)
	stopped := func(t *testing.T, start func(testing.TB, string, string) *testsupport.Proxy, scheme string) string {
		p := start(t, "", "")
		p.Stop()
		return scheme + p.Addr
	}
	cases := []struct {
		name   string
		url    func(t *testing.T) string
		target string // default: the fake API
		stage  Stage
	}{
		{"microsocks wrong password", func(t *testing.T) string {
			return "socks5://alice:wrong@" + testsupport.StartMicrosocks(t, "alice", "right").Addr
		}, "", StageProxyAuth},
		{"microsocks no credentials", func(t *testing.T) string {
			return "socks5://" + testsupport.StartMicrosocks(t, "alice", "right").Addr
		}, "", StageProxyAuth},
		{"dante wrong password", func(t *testing.T) string {
			return "socks5://ferryrt2:wrong@" + testsupport.StartDante(t, "ferryrt2", "right-pw").Addr
		}, "", StageProxyAuth},
		{"tinyproxy wrong password", func(t *testing.T) string {
			return "http://bob:wrong@" + testsupport.StartTinyproxy(t, "bob", "right").Addr
		}, "", StageProxyAuth},
		{"socks proxy stopped", func(t *testing.T) string { return stopped(t, testsupport.StartMicrosocks, "socks5://") }, "", StageProxyConnect},
		{"http proxy stopped", func(t *testing.T) string { return stopped(t, testsupport.StartTinyproxy, "http://") }, "", StageProxyConnect},
		{"direct target unresolvable", func(t *testing.T) string { return "direct" }, "https://no-such-host.invalid/", StageDNS},
		{"proxy host unresolvable", func(t *testing.T) string { return "socks5://no-such-proxy.invalid:1080" }, "", StageDNS},
		{"microsocks target unreachable", func(t *testing.T) string {
			return "socks5://" + testsupport.StartMicrosocks(t, "", "").Addr
		}, "https://127.0.0.1:1/", StageTargetConnect},
		{"dante target unreachable", func(t *testing.T) string {
			return "socks5://" + testsupport.StartDante(t, "", "").Addr
		}, "https://127.0.0.1:1/", StageTargetConnect},
		{"tinyproxy target unreachable", func(t *testing.T) string {
			return "http://" + testsupport.StartTinyproxy(t, "", "").Addr
		}, "https://127.0.0.1:1/", StageTargetConnect},
		{"microsocks target name unresolvable", func(t *testing.T) string {
			return "socks5://" + testsupport.StartMicrosocks(t, "", "").Addr
		}, "https://no-such-host.invalid/", StageTargetConnect},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.url(t)
			r, err := Parse(tc.name, raw)
			if err != nil {
				t.Fatal(err)
			}
			u, err := NewUpstream(r, DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			target := tc.target
			if target == "" {
				target = api.URL.String()
			}
			_, _, err = get(t, u, target)
			var de *DialError
			if !errors.As(err, &de) {
				t.Fatalf("got %v (%T), want a *DialError", err, err)
			}
			if de.Stage != tc.stage {
				t.Fatalf("stage %q, want %q; error: %v", de.Stage, tc.stage, err)
			}
			switch {
			case de.Stage == StageProxyAuth && strings.HasPrefix(raw, "socks5"):
				if !errors.Is(err, ErrSOCKSReply) {
					t.Errorf("SOCKS auth failure does not wrap ErrSOCKSReply: %v", err)
				}
			case de.Stage == StageProxyAuth || (de.Stage == StageTargetConnect && strings.HasPrefix(raw, "http")):
				if !errors.Is(err, ErrProxyStatus) {
					t.Errorf("CONNECT refusal does not wrap ErrProxyStatus: %v", err)
				}
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.name) {
				t.Errorf("message does not name the route: %s", msg)
			}
			for _, secret := range []string{"wrong", "right"} {
				if strings.Contains(msg, ":"+secret+"@") {
					t.Errorf("message leaks the password: %s", msg)
				}
			}
			if !r.isDirect() && !strings.Contains(msg, r.Masked()) {
				t.Errorf("message does not name the proxy %s: %s", r.Masked(), msg)
			}
		})
	}
}

package testsupport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	xproxy "golang.org/x/net/proxy"
)

// socksClient reaches the fake through a SOCKS5 proxy.
func socksClient(t *testing.T, f *FakeAPI, addr, user, pass string) *http.Client {
	t.Helper()
	var auth *xproxy.Auth
	if user != "" {
		auth = &xproxy.Auth{User: user, Password: pass}
	}
	d, err := xproxy.SOCKS5("tcp", addr, auth, &net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return clientWithDial(f, d.(xproxy.ContextDialer).DialContext)
}

// connectClient reaches the fake through an HTTP proxy with a hand-written
// CONNECT (what Ferry's CONNECT dialer does).
func connectClient(f *FakeAPI, addr, user, pass string) *http.Client {
	return clientWithDial(f, func(ctx context.Context, network, target string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
		if user != "" {
			req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) + "\r\n"
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req+"\r\n"); err != nil {
			c.Close()
			return nil, err
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			c.Close()
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			c.Close()
			return nil, &connectRefused{resp.StatusCode}
		}
		if br.Buffered() > 0 {
			c.Close()
			return nil, errors.New("proxy sent bytes after its CONNECT answer")
		}
		c.SetDeadline(time.Time{})
		return c, nil
	})
}

type connectRefused struct{ status int }

func (e *connectRefused) Error() string { return fmt.Sprintf("CONNECT refused: %d", e.status) }

func clientWithDial(f *FakeAPI, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	tr := &http.Transport{DialContext: dial, ForceAttemptHTTP2: true, DisableCompression: true}
	if f.CertPool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: f.CertPool}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// streamThrough fetches the stream scenario and checks it arrived whole.
func streamThrough(t *testing.T, c *http.Client, f *FakeAPI) error {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/v1/messages", strings.NewReader(`{"stream":true}`))
	req.Header.Set(ScenarioHeader, ScenarioUTF8Split+";split_gap=1ms")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if !bytes.Equal(b, f.ExpectedBody(ScenarioUTF8Split)) {
		t.Fatalf("body through the proxy differs")
	}
	if want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[f.CertPool != nil]; f.Last().Proto != want {
		t.Fatalf("fake saw %s, want %s", f.Last().Proto, want)
	}
	return nil
}

func TestProxies(t *testing.T) {
	type start func(t *testing.T) *Proxy
	tests := []struct {
		name  string
		start start
		user  string
	}{
		{"microsocks-noauth", func(t *testing.T) *Proxy { return StartMicrosocks(t, "", "") }, ""},
		{"microsocks", func(t *testing.T) *Proxy { return StartMicrosocks(t, "ferry", "s3cret-ms") }, "ferry"},
		{"dante", func(t *testing.T) *Proxy { return StartDante(t, "ferrytest", "s3cret-dante") }, "ferrytest"},
		{"dante-noauth", func(t *testing.T) *Proxy { return StartDante(t, "", "") }, ""},
		{"tinyproxy", func(t *testing.T) *Proxy { return StartTinyproxy(t, "ferry", "s3cret-tp") }, "ferry"},
		{"tinyproxy-noauth", func(t *testing.T) *Proxy { return StartTinyproxy(t, "", "") }, ""},
	}
	plain, secure := NewFakeAPI(t), NewFakeAPITLS(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.start(t)
			client := func(user, pass string) func(f *FakeAPI) *http.Client {
				return func(f *FakeAPI) *http.Client {
					if p.Kind == KindSOCKS5 {
						return socksClient(t, f, p.Addr, user, pass)
					}
					return connectClient(f, p.Addr, user, pass)
				}
			}
			wantURL := p.Kind + "://" + p.Addr
			if tt.user != "" {
				wantURL = p.Kind + "://" + tt.user + ":" + p.Pass + "@" + p.Addr
			}
			if p.URL(true) != wantURL || p.URL(false) != p.Kind+"://"+p.Addr {
				t.Fatalf("URL %q / %q", p.URL(true), p.URL(false))
			}
			for _, f := range []*FakeAPI{plain, secure} {
				if err := streamThrough(t, client(p.User, p.Pass)(f), f); err != nil {
					t.Fatalf("through %s to %s: %v\n%s", p.Name, f.URL, err, p.Output())
				}
			}
			if tt.user != "" {
				if err := streamThrough(t, client(p.User, "wrong")(secure), secure); err == nil {
					t.Fatalf("wrong password accepted by %s", p.Name)
				} else if p.Kind == KindHTTP {
					var cr *connectRefused
					if !errors.As(err, &cr) || (cr.status != 407 && cr.status != 401) {
						t.Fatalf("wrong password: %v", err)
					}
				}
				if err := streamThrough(t, client("", "")(secure), secure); err == nil {
					t.Fatalf("no credentials accepted by %s", p.Name)
				}
			}
			p.Stop()
			p.Stop()
			if err := streamThrough(t, client(p.User, p.Pass)(plain), plain); err == nil {
				t.Fatalf("%s still answers after Stop", p.Name)
			}
			if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
				c.Close()
				t.Fatalf("%s still listens after Stop", p.Name)
			}
		})
	}
}

func TestDelayed(t *testing.T) {
	f := NewFakeAPITLS(t)
	ms := StartMicrosocks(t, "ferry", "s3cret-ms")
	const delay = 150 * time.Millisecond
	d := StartDelayed(t, ms, delay)
	if d.Addr == ms.Addr || d.Kind != KindSOCKS5 || d.User != "ferry" {
		t.Fatalf("%+v", d)
	}
	start := time.Now()
	if err := streamThrough(t, socksClient(t, f, d.Addr, d.User, d.Pass), f); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: the SOCKS greeting's answer is held back at least once.
	if el := time.Since(start); el < delay {
		t.Fatalf("took %v through a relay delaying %v", el, delay)
	}
	d.Stop()
	if c, err := net.DialTimeout("tcp", d.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("relay still listens after Stop")
	}
	// The target proxy itself is untouched.
	if err := streamThrough(t, socksClient(t, f, ms.Addr, ms.User, ms.Pass), f); err != nil {
		t.Fatal(err)
	}
}

// dante lets clients reach ::1 too (its rules allow 127.0.0.0/8 and ::1).
func TestDanteToIPv6Loopback(t *testing.T) {
	f, err := StartFakeAPI("[::1]:0", t.TempDir())
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(f.Close)
	p := StartDante(t, "ferrytest", "s3cret-dante")
	if err := streamThrough(t, socksClient(t, f, p.Addr, p.User, p.Pass), f); err != nil {
		t.Fatalf("to %s through dante: %v\n%s", f.URL, err, p.Output())
	}
}

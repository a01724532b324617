package route

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// fakeAPI is testsupport's HTTPS fake (HTTP/2, its own CA) with its base
// URL parsed.
type fakeAPI struct {
	Fake  *testsupport.FakeAPI
	URL   *url.URL
	Roots *x509.CertPool
}

func startFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := testsupport.NewFakeAPITLS(t)
	u, err := url.Parse(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeAPI{Fake: f, URL: u, Roots: f.CertPool}
}

// certificate is the fake's own server certificate (valid for 127.0.0.1),
// reused to put TLS in front of a proxy.
func (a *fakeAPI) certificate(t *testing.T) tls.Certificate {
	t.Helper()
	dir := filepath.Dir(a.Fake.CAPath)
	c, err := tls.LoadX509KeyPair(filepath.Join(dir, testsupport.CertFile), filepath.Join(dir, testsupport.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// restartMicrosocks starts microsocks again on the address a stopped one
// had, so a route's URL comes back to life.
func restartMicrosocks(t *testing.T, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	bin, err := exec.LookPath("microsocks")
	if err != nil {
		t.Fatal(err) // testsupport.StartMicrosocks found it before
	}
	cmd := exec.Command(bin, "-i", host, "-p", port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("microsocks did not come back on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func poolOf(srv *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(srv.Certificate())
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// assertH2 checks that HTTP/2 was used both ways: the client's response and
// the request the fake saw last.
func (a *fakeAPI) assertH2(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	last := a.Fake.Last()
	if resp.ProtoMajor != 2 || last.Proto != "HTTP/2.0" || !last.TLS {
		t.Fatalf("client got %s, fake saw %s (TLS %v); want HTTP/2 over TLS both ways (body %.80q)", resp.Proto, last.Proto, last.TLS, body)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.200s", resp.StatusCode, body)
	}
}

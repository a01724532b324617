package route

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// These helpers start the real Debian proxies on loopback. They stand in
// until proxy/testsupport lands and stay small on purpose.

// needBinary skips locally but fails in CI when a proxy is not installed.
func needBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (the test command installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a started proxy process; Stop ends it early.
type proc struct {
	Addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	once sync.Once
}

func (p *proc) Stop() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
}

func startProc(t *testing.T, addr string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	out := &bytes.Buffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{Addr: addr, cmd: cmd, out: out}
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			p.Stop()
			t.Fatalf("%s did not listen on %s: %v\n%s", name, addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startMicrosocks(t *testing.T, user, pass string) *proc {
	t.Helper()
	bin := needBinary(t, "microsocks")
	port := freePort(t)
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)}
	if user != "" {
		args = append(args, "-u", user, "-P", pass)
	}
	return startProc(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin, args...)
}

func startTinyproxy(t *testing.T, user, pass string) *proc {
	t.Helper()
	bin := needBinary(t, "tinyproxy")
	port := freePort(t)
	dir := t.TempDir()
	conf := fmt.Sprintf("Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\nAllow 127.0.0.1\nLogLevel Info\n", port)
	if os.Geteuid() == 0 {
		conf += "User nobody\nGroup nogroup\n"
	}
	if user != "" {
		conf += fmt.Sprintf("BasicAuth %s %s\n", user, pass)
	}
	path := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return startProc(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin, "-d", "-c", path)
}

// startDante runs danted; with a user it creates a system account, since
// dante's username method checks the system's password database.
func startDante(t *testing.T, user, pass string) *proc {
	t.Helper()
	bin := needBinary(t, "danted")
	if user != "" {
		if os.Geteuid() != 0 {
			t.Skip("dante username auth needs root to create a system user")
		}
		if out, err := exec.Command("useradd", "-M", "-s", "/usr/sbin/nologin", user).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v %s", user, err, out)
		}
		t.Cleanup(func() { exec.Command("userdel", user).Run() })
		chp := exec.Command("chpasswd")
		chp.Stdin = bytes.NewBufferString(user + ":" + pass + "\n")
		if out, err := chp.CombinedOutput(); err != nil {
			t.Fatalf("chpasswd: %v %s", err, out)
		}
	}
	port := freePort(t)
	method := "none"
	if user != "" {
		method = "username"
	}
	conf := fmt.Sprintf(`logoutput: stderr
internal: 127.0.0.1 port = %d
external: 127.0.0.1
clientmethod: none
socksmethod: %s
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
`, port, method)
	dir := t.TempDir()
	path := filepath.Join(dir, "danted.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return startProc(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), bin, "-f", path, "-p", filepath.Join(dir, "danted.pid"), "-N", "1")
}

// fakeAPI is an HTTPS server speaking HTTP/2 that answers with the
// protocol it saw.
type fakeAPI struct {
	URL   *url.URL
	Roots *x509.CertPool
	srv   *httptest.Server
}

func startFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "proto=%s", r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &fakeAPI{URL: u, Roots: roots, srv: srv}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func poolOf(srv *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(srv.Certificate())
	return p
}

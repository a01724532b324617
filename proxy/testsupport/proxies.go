package testsupport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proxy kinds, the scheme of Proxy.URL.
const (
	KindSOCKS5 = "socks5"
	KindHTTP   = "http"
)

// startTimeout bounds how long a proxy may take to accept connections.
const startTimeout = 10 * time.Second

// Proxy is a running upstream proxy on 127.0.0.1.
type Proxy struct {
	Name string // "microsocks", "dante", "tinyproxy", or "delayed <name>"
	Kind string // KindSOCKS5 or KindHTTP
	Addr string // 127.0.0.1:PORT
	User string // "" when no authentication is required
	Pass string

	out  *SyncBuffer
	stop func()
	once sync.Once
}

// URL is the proxy's URL, socks5://… or http://…, with the credentials when
// withCreds is true (and the proxy has any).
func (p *Proxy) URL(withCreds bool) string {
	u := &url.URL{Scheme: p.Kind, Host: p.Addr}
	if withCreds && p.User != "" {
		u.User = url.UserPassword(p.User, p.Pass)
	}
	return u.String()
}

// URLWith is the proxy's URL with the given credentials (for wrong-password
// tests).
func (p *Proxy) URLWith(user, pass string) string {
	u := &url.URL{Scheme: p.Kind, Host: p.Addr, User: url.UserPassword(user, pass)}
	return u.String()
}

// Stop stops the proxy now (to test "proxy down"); t.Cleanup calls it too.
// Safe to call more than once.
func (p *Proxy) Stop() {
	p.once.Do(func() {
		if p.stop != nil {
			p.stop()
		}
	})
}

// Output is what the proxy process printed so far (for failure messages).
func (p *Proxy) Output() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers, for capturing a
// child process's output or a logger's lines while a test reads them.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// needBinary finds a Debian proxy binary: missing, the test is skipped
// locally and fails in CI (CI=true), where the test command installs it.
func needBinary(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && !st.IsDir() {
			return filepath.Join(dir, name)
		}
	}
	msg := fmt.Sprintf("%v: %s (apt-get install %s)", ErrBinaryMissing, name, pkg)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// waitListening polls addr until it accepts a connection, the process exits
// or the deadline passes.
func waitListening(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on %s", addr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %v: %w", addr, startTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startProcess runs a proxy on a free port, retrying with another port when
// the process dies before listening (the port may have been taken between
// FreePort and the bind).
func startProcess(t testing.TB, p *Proxy, bin string, args func(port int, dir string) ([]string, error)) *Proxy {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		dir := t.TempDir()
		argv, err := args(port, dir)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		out := &SyncBuffer{}
		cmd := exec.Command(bin, argv...)
		cmd.Stdout, cmd.Stderr = out, out
		setProcessGroup(cmd)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", p.Name, err)
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		stop := func() {
			terminate(cmd)
			select {
			case <-exited:
			case <-time.After(3 * time.Second):
				kill(cmd)
				<-exited
			}
		}
		q := &Proxy{Name: p.Name, Kind: p.Kind, User: p.User, Pass: p.Pass,
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), out: out, stop: stop}
		if err := waitListening(q.Addr, exited); err != nil {
			stop()
			lastErr = fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(argv, " "), err, out.String())
			continue
		}
		t.Cleanup(q.Stop)
		return q
	}
	t.Fatalf("start %s: %v", p.Name, lastErr)
	return nil
}

// StartMicrosocks starts Debian's microsocks (SOCKS5) on 127.0.0.1, with
// username/password authentication unless user is "".
func StartMicrosocks(t testing.TB, user, pass string) *Proxy {
	t.Helper()
	bin := needBinary(t, "microsocks", "microsocks")
	return startProcess(t, &Proxy{Name: "microsocks", Kind: KindSOCKS5, User: user, Pass: pass}, bin,
		func(port int, _ string) ([]string, error) {
			args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)}
			if user != "" {
				args = append(args, "-u", user, "-P", pass)
			}
			return args, nil
		})
}

// accountMu serialises this process's useradd/chpasswd calls.
var accountMu sync.Mutex

// ensureSystemUser creates user (no home, no login shell) when missing and
// sets its password. Other test processes may do the same at once, so a
// locked passwd file is retried. The account is left in place: deleting it
// would race with other test processes using the same name, so use one
// password per user name across tests.
func ensureSystemUser(user, pass string) error {
	accountMu.Lock()
	defer accountMu.Unlock()
	run := func(stdin string, name string, args ...string) error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			cmd := exec.Command(name, args...)
			cmd.Stdin = strings.NewReader(stdin)
			out, err := cmd.CombinedOutput()
			if err == nil {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if _, err := lookupUser(user); err != nil {
		if err := run("", "useradd", "-M", "-s", "/usr/sbin/nologin", user); err != nil {
			// Another process may have created it meanwhile.
			if _, lerr := lookupUser(user); lerr != nil {
				return err
			}
		}
	}
	return run(user+":"+pass+"\n", "chpasswd")
}

func lookupUser(name string) (*user.User, error) { return user.Lookup(name) }

// StartDante starts Debian's dante-server (danted, SOCKS5) on 127.0.0.1. With
// a user it requires the username method, which dante checks against the
// system's accounts: the user is created (useradd) if missing and its
// password set (chpasswd), which needs root — without root the test is
// skipped (failed in CI). Clients may connect to 127.0.0.0/8 and ::1 only.
func StartDante(t testing.TB, user, pass string) *Proxy {
	t.Helper()
	bin := needBinary(t, "danted", "dante-server")
	method := "none"
	if user != "" {
		if os.Geteuid() != 0 {
			msg := "dante username authentication needs root to create a system user"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		if err := ensureSystemUser(user, pass); err != nil {
			t.Fatalf("dante user: %v", err)
		}
		method = "username"
	}
	unprivileged := "nobody"
	if os.Geteuid() != 0 {
		unprivileged = ""
	}
	return startProcess(t, &Proxy{Name: "dante", Kind: KindSOCKS5, User: user, Pass: pass}, bin,
		func(port int, dir string) ([]string, error) {
			var c strings.Builder
			fmt.Fprintf(&c, "logoutput: stderr\n")
			fmt.Fprintf(&c, "internal: 127.0.0.1 port = %d\n", port)
			fmt.Fprintf(&c, "external: 127.0.0.1\nexternal: ::1\n")
			fmt.Fprintf(&c, "clientmethod: none\nsocksmethod: %s\n", method)
			if unprivileged != "" {
				fmt.Fprintf(&c, "user.privileged: root\nuser.unprivileged: %s\n", unprivileged)
			}
			c.WriteString("client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }\n")
			c.WriteString("socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }\n")
			c.WriteString("socks pass { from: 127.0.0.0/8 to: ::1/128 }\n")
			conf := filepath.Join(dir, "danted.conf")
			if err := os.WriteFile(conf, []byte(c.String()), 0o644); err != nil {
				return nil, fmt.Errorf("write %s: %w", conf, err)
			}
			return []string{"-f", conf, "-p", filepath.Join(dir, "danted.pid"), "-N", "1"}, nil
		})
}

// StartTinyproxy starts Debian's tinyproxy (HTTP proxy with CONNECT) on
// 127.0.0.1 in the foreground, with BasicAuth unless user is "". No
// ConnectPort line is written, so CONNECT is allowed to any port (the fake's
// port is random).
func StartTinyproxy(t testing.TB, user, pass string) *Proxy {
	t.Helper()
	bin := needBinary(t, "tinyproxy", "tinyproxy")
	return startProcess(t, &Proxy{Name: "tinyproxy", Kind: KindHTTP, User: user, Pass: pass}, bin,
		func(port int, dir string) ([]string, error) {
			var c strings.Builder
			fmt.Fprintf(&c, "Port %d\nListen 127.0.0.1\nTimeout 600\nMaxClients 256\n", port)
			c.WriteString("Allow 127.0.0.1\nLogLevel Info\nDisableViaHeader Yes\n")
			if os.Geteuid() == 0 {
				// tinyproxy refuses to keep running as root.
				c.WriteString("User nobody\nGroup nogroup\n")
			}
			if user != "" {
				fmt.Fprintf(&c, "BasicAuth %s %s\n", user, pass)
			}
			conf := filepath.Join(dir, "tinyproxy.conf")
			if err := os.WriteFile(conf, []byte(c.String()), 0o644); err != nil {
				return nil, fmt.Errorf("write %s: %w", conf, err)
			}
			return []string{"-d", "-c", conf}, nil
		})
}

// StartDelayed starts a TCP relay on 127.0.0.1 in front of target that holds
// back the first bytes in each direction for delay, then relays freely: the
// same proxy, made slower to answer (to make one route slower than another).
// The returned Proxy has target's kind and credentials and its own address.
func StartDelayed(t testing.TB, target *Proxy, delay time.Duration) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("delayed relay listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	track := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
		conns[c] = struct{}{}
		return true
	}
	untrack := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		delete(conns, c)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !track(c) {
				c.Close()
				return
			}

			wg.Add(1)
			go func() {
				defer wg.Done()
				defer untrack(c)
				relayDelayed(ctx, c, target.Addr, delay, track, untrack)
			}()
		}
	}()
	p := &Proxy{Name: "delayed " + target.Name, Kind: target.Kind, Addr: ln.Addr().String(), User: target.User, Pass: target.Pass}
	p.stop = func() {
		mu.Lock()
		cancel()
		ln.Close()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
	t.Cleanup(p.Stop)
	return p
}

func relayDelayed(ctx context.Context, client net.Conn, target string, delay time.Duration, track func(net.Conn) bool, untrack func(net.Conn)) {
	defer client.Close()
	d := net.Dialer{Timeout: startTimeout}
	up, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	if !track(up) {
		return
	}
	defer untrack(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		n, err := src.Read(buf)
		if n > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err == nil {
			_, err = io.CopyBuffer(dst, src, buf)
		}
		// Pass the half-close on so the other side sees EOF.
		if tc, ok := dst.(*net.TCPConn); ok && (err == nil || errors.Is(err, io.EOF)) {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
	}
	go pipe(up, client)
	go pipe(client, up)
	<-done
	<-done
}

//go:build unix

package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/secrets"
)

// squatter is a program that took Ferry's port after Ferry died: it
// answers everything 200 and keeps what it was sent.
type squatter struct {
	addr string
	mu   sync.Mutex
	got  []string // method path, headers and body of every request
}

func startSquatter(t *testing.T) *squatter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &squatter{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		hdr, _ := json.Marshal(r.Header)
		s.mu.Lock()
		s.got = append(s.got, r.Method+" "+r.URL.Path+" "+string(hdr)+" "+string(b))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"mac":"00","token":"sk-ferry-chosen-by-the-attacker","set":true,"masked":"x","source":"keychain"}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *squatter) received() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.got, "\n")
}

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func plantRuntime(t *testing.T, dir string, rt app.Runtime, mode os.FileMode) string {
	t.Helper()
	b, _ := json.Marshal(rt)
	p := filepath.Join(dir, app.RuntimeFile)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const attackedKey = "sk-ant-api03-the-users-real-key-0123456789"

// After a kill -9 runtime.json still names the old port; another user
// who binds it received PUT /_ferry/key with the real key (issue 14).
func TestKeySetIgnoresStaleRuntimeAndSquatter(t *testing.T) {
	dir := t.TempDir()
	sq := startSquatter(t)
	pid := deadPID(t)
	plantRuntime(t, dir, app.Runtime{Listen: sq.addr, PID: pid, AdminToken: "old-admin-token"}, 0o600)

	code, _, errs := run(t, attackedKey+"\n", nil, "key", "set", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("key set: exit %d: %s", code, errs)
	}
	if got := sq.received(); got != "" {
		t.Fatalf("the squatter on the stale port was sent:\n%s", got)
	}
	want := "stale runtime.json (pid " + itoa(pid) + " not running)"
	if !strings.Contains(errs, want) {
		t.Errorf("stderr %q does not say %q", errs, want)
	}
	// It worked on the database instead.
	if code, out, _ := run(t, "", nil, "key", "status", "--data-dir", dir); code != 0 || !strings.Contains(out, "sk-ant-") {
		t.Errorf("key status after set on the database: %d %q", code, out)
	}
}

// A live process of ours that is not Ferry (PID reuse) answers on the
// port: it cannot answer the hello challenge, so it gets nothing secret.
func TestKeySetVerifiesServerBeforeSendingSecrets(t *testing.T) {
	dir := t.TempDir()
	sq := startSquatter(t)
	plantRuntime(t, dir, app.Runtime{Listen: sq.addr, PID: os.Getpid(), AdminToken: "admin-token-in-file"}, 0o600)

	code, _, errs := run(t, attackedKey+"\n", nil, "key", "set", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("key set: exit %d: %s", code, errs)
	}
	got := sq.received()
	if strings.Contains(got, attackedKey) || strings.Contains(got, "admin-token-in-file") {
		t.Fatalf("a secret went to a server that did not prove itself:\n%s", got)
	}
	if !strings.Contains(got, "POST /_ferry/hello") {
		t.Errorf("no hello challenge was run: %q", got)
	}
	if !strings.Contains(errs, "did not prove") {
		t.Errorf("stderr %q does not say the server failed the challenge", errs)
	}
}

// A planted runtime.json made `ferry token` print a token the attacker
// chose. Files another user could have written are not trusted.
func TestPlantedRuntimeNotTrusted(t *testing.T) {
	sq := startSquatter(t)
	cases := map[string]func(t *testing.T, dir string){
		"mode 0644": func(t *testing.T, dir string) {
			plantRuntime(t, dir, app.Runtime{Listen: sq.addr, PID: os.Getpid(), AdminToken: "a"}, 0o644)
		},
		"symlink": func(t *testing.T, dir string) {
			other := t.TempDir()
			p := plantRuntime(t, other, app.Runtime{Listen: sq.addr, PID: os.Getpid(), AdminToken: "a"}, 0o600)
			if err := os.Symlink(p, filepath.Join(dir, app.RuntimeFile)); err != nil {
				t.Fatal(err)
			}
		},
		"another user's file": func(t *testing.T, dir string) {
			if os.Getuid() != 0 {
				t.Skip("chown needs root")
			}
			p := plantRuntime(t, dir, app.Runtime{Listen: sq.addr, PID: os.Getpid(), AdminToken: "a"}, 0o600)
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, plant := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			plant(t, dir)
			code, out, errs := run(t, "", nil, "token", "--data-dir", dir)
			if code != 0 || strings.Contains(out, "chosen-by-the-attacker") || !strings.HasPrefix(strings.TrimSpace(out), "sk-ferry-") {
				t.Fatalf("ferry token: exit %d, out %q, err %q", code, out, errs)
			}
			if !strings.Contains(errs, "not trusting") {
				t.Errorf("stderr %q does not say why runtime.json was not trusted", errs)
			}
		})
	}
	if got := sq.received(); got != "" {
		t.Fatalf("the squatter was contacted:\n%s", got)
	}
}

// A group- or world-writable data dir lets another user swap
// runtime.json: it is not trusted there.
func TestRuntimeInWritableDirNotTrusted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	plantRuntime(t, dir, app.Runtime{Listen: "127.0.0.1:1", PID: os.Getpid(), AdminToken: "a"}, 0o600)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := app.ReadRuntime(dir)
	if err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Fatalf("ReadRuntime in a 0777 dir: %v", err)
	}
}

// The real Ferry passes the challenge: the CLI still reaches it.
func TestCLIReachesRealFerryAfterHello(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir, "--via", "direct")
	code, out, errs := run(t, "", nil, "token", "--data-dir", dir)
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "sk-ferry-") {
		t.Fatalf("ferry token against a running Ferry: %d %q %q\n%s", code, out, errs, p.out)
	}
	if errs != "" {
		t.Errorf("unexpected warnings: %q", errs)
	}
}

// Another local user could read the admin token when runtime.json kept an
// old file's mode or was written through a symlink; now it never can.
func TestAnotherUserCannotReadRuntime(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to act as another user")
	}
	sp, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("no setpriv")
	}
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	for p := filepath.Dir(base); p != "/"; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			_ = os.Chmod(p, fi.Mode().Perm()|0o011)
		}
	}
	dir := filepath.Join(base, "ferry")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // a careless umask, or another user's doing
		t.Fatal(err)
	}
	startServe(t, dir, "--via", "direct")
	out, err := exec.Command(sp, "--reuid=65534", "--regid=65534", "--clear-groups", "cat",
		filepath.Join(dir, app.RuntimeFile), filepath.Join(dir, secrets.FileName)).CombinedOutput()
	if err == nil || strings.Contains(string(out), "admin_token") || strings.Contains(string(out), "sk-ferry-") {
		t.Fatalf("another user read Ferry's tokens: %s", out)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %#o, want it narrowed to 0700", fi.Mode().Perm())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The CLI's client dials loopback addresses only: a runtime.json naming
// another host never gets the admin token sent off the machine.
func TestAdminClientDialsLoopbackOnly(t *testing.T) {
	c := loopbackClient()
	req, _ := http.NewRequest("GET", "http://192.0.2.1:7856/_ferry/health", nil)
	req.Header.Set("X-Ferry-Admin-Token", "secret")
	if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("dial to a remote address: %v", err)
	}
}

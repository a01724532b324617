package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/zalando/go-keyring"
)

// The test binary doubles as the ferry binary: with FERRY_TEST_AS_FERRY set
// it runs the command line in its arguments, so the tests can send real
// signals to a real process.
func TestMain(m *testing.M) {
	if os.Getenv("FERRY_TEST_AS_FERRY") == "1" {
		os.Exit(Main(os.Args[1:], Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Version: "test"}))
	}
	os.Exit(m.Run())
}

func testEnv(vars map[string]string) func(string) string {
	return func(k string) string {
		if k == "FERRY_KEYRING" {
			return "off"
		}
		return vars[k]
	}
}

// run runs one command line in-process.
func run(t *testing.T, stdin string, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: testEnv(vars), Version: "test"})
	return code, out.String(), errb.String()
}

// ferryProcess is `ferry serve` in a child process.
type ferryProcess struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan error
	base   string
}

func startServe(t *testing.T, dataDir string, args ...string) *ferryProcess {
	t.Helper()
	listen := fmt.Sprintf("127.0.0.1:%d", testsupport.FreePort(t))
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data-dir", dataDir, "--listen", listen}, args...)...)
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1", "FERRY_KEYRING=off")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ferryProcess{cmd: cmd, out: out, exited: make(chan error, 1), base: "http://" + listen}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := app.ReadRuntime(dataDir); err == nil {
			if resp, err := http.Get(p.base + "/_ferry/health"); err == nil {
				resp.Body.Close()
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ferry serve did not come up:\n%s", out)
	return nil
}

func TestServeRunsUntilSIGTERMAndExitsZero(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	dir := t.TempDir()
	p := startServe(t, dir, "--api-base", fake.URL, "--via", "direct")

	fi, err := os.Stat(filepath.Join(dir, app.RuntimeFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("runtime.json mode %v, want 0600", fi.Mode().Perm())
	}
	fi, err = os.Stat(filepath.Join(dir, app.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("ferry.db mode %v, want 0600", fi.Mode().Perm())
	}

	// A slow stream in flight when SIGTERM arrives finishes whole.
	req, _ := http.NewRequest("POST", p.base+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","stream":true}`))
	req.Header.Set("x-api-key", "sk-ant-test")
	req.Header.Set("x-fake-scenario", "slow;gap=300ms;total=1500ms")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("stream in flight cut by shutdown: %v", err)
	}
	if !strings.Contains(body.String(), "event: message_stop") {
		t.Fatalf("stream in flight did not finish:\n%s", body.String())
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, p.out)
		}
		p.exited <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(dir, app.RuntimeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime.json left after shutdown: %v", err)
	}
	// The request in flight was recorded before the database closed.
	code, out, errs := run(t, "", nil, "usage", "--json", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, `"requests": 1`) {
		t.Fatalf("usage after shutdown: code %d\n%s\n%s", code, out, errs)
	}
}

func TestPortInUseIsOneClearLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--data-dir", t.TempDir(), "--listen", ln.Addr().String())
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1", "FERRY_KEYRING=off")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("serve on a busy port exited 0:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "port "+port+" is already in use") || !strings.Contains(last, "--listen") {
		t.Fatalf("error line %q does not name the port and the flag", last)
	}
}

func TestListenOnNetworkNeedsAllowRemote(t *testing.T) {
	code, _, errs := run(t, "", nil, "serve", "--data-dir", t.TempDir(), "--listen", "0.0.0.0:0")
	if code == 0 || !strings.Contains(errs, "--allow-remote") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}

func TestSecondInstanceOnOneDataDirFailsFast(t *testing.T) {
	dir := t.TempDir()
	srv, err := app.Open(app.Config{DataDir: dir, Listen: "127.0.0.1:0", Getenv: testEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())
	start := time.Now()
	_, err = app.Open(app.Config{DataDir: dir, Listen: "127.0.0.1:0", Getenv: testEnv(nil)})
	if err == nil {
		t.Fatal("a second Ferry opened the same database")
	}
	if !strings.Contains(err.Error(), "another Ferry") {
		t.Errorf("error %q does not say another Ferry holds the database", err)
	}
	t.Logf("second open failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

func TestEnvironmentVariablesSetFlags(t *testing.T) {
	fs := newFlagSetForTest()
	o := serveFlags(fs)
	if err := fs.Parse([]string{"--idle-timeout", "7s"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := o.finish(fs, testEnv(map[string]string{
		"FERRY_IDLE_TIMEOUT": "99s", // the flag wins
		"FERRY_VIA":          "socks5://127.0.0.1:1080",
		"FERRY_ALLOW_ORIGIN": "http://localhost:3000,http://127.0.0.1:5173",
		"FERRY_RETENTION":    "30d",
		"FERRY_STORE_BODIES": "true",
		"FERRY_API_KEY":      "sk-ant-from-env",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// Knob flags become overrides for this run, each named by its source.
	want := []app.Override{
		{Key: app.KeyIdleTimeout, Text: "7s", From: "flag --idle-timeout"}, // the flag wins over FERRY_IDLE_TIMEOUT
		{Key: app.KeyRetention, Text: "30d", From: "FERRY_RETENTION"},
		{Key: app.KeyStoreBodies, Text: "true", From: "FERRY_STORE_BODIES"},
	}
	if fmt.Sprint(cfg.Overrides) != fmt.Sprint(want) {
		t.Errorf("overrides %+v, want %+v", cfg.Overrides, want)
	}
	if cfg.Via != "socks5://127.0.0.1:1080" || len(cfg.AllowOrigins) != 2 || cfg.APIKey != "sk-ant-from-env" {
		t.Errorf("config from the environment: %+v", cfg)
	}
	if cfg.Listen != "" || cfg.IdleTimeout != 0 {
		t.Errorf("Listen %q, IdleTimeout %v: knobs are overridden through Overrides only", cfg.Listen, cfg.IdleTimeout)
	}
}

func TestServeHelpNamesEveryVariable(t *testing.T) {
	code, out, _ := run(t, "", nil, "serve", "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, v := range []string{"FERRY_LISTEN", "FERRY_API_BASE", "FERRY_VIA", "FERRY_ALLOW_REMOTE", "FERRY_ALLOW_ORIGIN",
		"FERRY_DATA_DIR", "FERRY_CA_FILE", "FERRY_INSECURE_SKIP_VERIFY", "FERRY_CONNECT_TIMEOUT",
		"FERRY_FIRST_BYTE_TIMEOUT", "FERRY_IDLE_TIMEOUT", "FERRY_RETENTION", "FERRY_STORE_BODIES", "FERRY_API_KEY"} {
		if !strings.Contains(out, v) {
			t.Errorf("serve --help does not name %s", v)
		}
	}
}

// Every subcommand works the same whether Ferry runs or not.
func TestSubcommandsWithAndWithoutARunningFerry(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	for _, running := range []bool{false, true} {
		t.Run(fmt.Sprintf("running=%v", running), func(t *testing.T) {
			dir := t.TempDir()
			var p *ferryProcess
			if running {
				p = startServe(t, dir, "--api-base", fake.URL, "--via", "direct")
			}
			must := func(stdin string, args ...string) string {
				t.Helper()
				code, out, errs := run(t, stdin, nil, append(args, "--data-dir", dir)...)
				if code != 0 {
					t.Fatalf("ferry %v: exit %d\n%s%s", args, code, out, errs)
				}
				return out
			}
			token := strings.TrimSpace(must("", "token"))
			if !strings.HasPrefix(token, "sk-ferry-") {
				t.Fatalf("token %q", token)
			}
			if again := strings.TrimSpace(must("", "token")); again != token {
				t.Fatalf("token changed between calls: %q then %q", token, again)
			}
			const key = "sk-ant-api03-secret-key-for-the-test-0000"
			if out := must(key+"\n", "key", "set"); strings.Contains(out, key) {
				t.Fatalf("key set echoed the whole key: %q", out)
			}
			if out := must("", "key", "status"); !strings.Contains(out, "sk-ant-") || strings.Contains(out, key) {
				t.Fatalf("key status %q: want it masked", out)
			}
			must("", "routes", "add", "Office", "socks5://alice:pw@127.0.0.1:1")
			if out := must("", "routes", "list"); !strings.Contains(out, "Office") || strings.Contains(out, ":pw@") {
				t.Fatalf("routes list %q: want Office with its password masked", out)
			}
			must("", "routes", "set", "Office", "region=jp")
			must("", "routes", "set", "Office", "http=1.1")
			if out := must("", "routes", "list"); !strings.Contains(out, "region=jp, http=1.1") {
				t.Fatalf("routes list after set:\n%s", out)
			}
			// A bad value: a clear error, nothing stored.
			if code, out, errs := run(t, "", nil, "routes", "set", "Office", "tls_key_share=kyber", "--data-dir", dir); code == 0 ||
				!strings.Contains(out+errs, "want auto, classic or pq") {
				t.Fatalf("bad tls_key_share: exit %d\n%s%s", code, out, errs)
			}
			if out := must("", "routes", "list"); strings.Contains(out, "kyber") || !strings.Contains(out, "http=1.1") {
				t.Fatalf("routes list after a refused set:\n%s", out)
			}
			must("", "routes", "forget", "Office")
			must("", "routes", "use", "Direct")
			must("", "routes", "auto")
			must("", "routes", "remove", "Office")
			if out := must("", "prices", "list"); !strings.Contains(out, "claude-opus-4-5") {
				t.Fatalf("prices list:\n%s", out)
			}
			must("", "prices", "set", "claude-test-1", `{"input":1,"output":2,"cache_write_5m":1.25,"cache_write_1h":2,"cache_read":0.1}`)
			var table struct {
				Rows []struct{ Model string } `json:"rows"`
			}
			if err := json.Unmarshal([]byte(must("", "prices", "export")), &table); err != nil {
				t.Fatalf("prices export is not JSON: %v", err)
			}
			found := false
			for _, r := range table.Rows {
				found = found || r.Model == "claude-test-1"
			}
			if !found {
				t.Fatal("prices set did not reach the table")
			}
			must("", "prices", "reset")

			if running {
				wantUpstreamKey(t, p.base, token, fake, key)
			}
			out := must("", "usage", "--since", "1d", "--by", "route", "--csv")
			if !strings.HasPrefix(out, "route,requests,") {
				t.Fatalf("usage --csv:\n%s", out)
			}
			must("", "key", "clear")
			if out := must("", "key", "status"); !strings.Contains(out, "no API key") {
				t.Fatalf("after clear: %q", out)
			}
		})
	}
}

// wantUpstreamKey sends a request with the local token and checks that the
// upstream saw the stored key in its place.
func wantUpstreamKey(t *testing.T, base, token string, fake *testsupport.FakeAPI, key string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/messages", strings.NewReader(`{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[]}`))
	req.Header.Set("x-api-key", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := fake.Last().Header.Get("x-api-key"); got != key {
		t.Fatalf("upstream saw key %q, want the stored one", got)
	}
}

func newFlagSetForTest() *flag.FlagSet { return flag.NewFlagSet("test", flag.ContinueOnError) }

// TestKeyInTheOSKeychain stores the key in a real Secret Service and not
// in the database, uses it after a restart and forgets it. It touches the
// "Ferry" entry of the session's keychain, so it runs only where the test
// script asks for it: inside a private D-Bus session with gnome-keyring
// unlocked (FERRY_TEST_KEYCHAIN=1, see scripts/test.sh).
func TestKeyInTheOSKeychain(t *testing.T) {
	if os.Getenv("FERRY_TEST_KEYCHAIN") != "1" {
		t.Skip("needs a private Secret Service: FERRY_TEST_KEYCHAIN=1 under dbus-run-session with gnome-keyring (scripts/test.sh)")
	}
	dir := t.TempDir()
	ferry := func(stdin string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := Main(append(args, "--data-dir", dir), Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Version: "test"})
		if code != 0 {
			t.Fatalf("ferry %v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
		return out.String()
	}
	const key = "sk-ant-api03-keychain-test-key-000000000000"
	if out := ferry(key+"\n", "key", "set"); !strings.Contains(out, "stored in the keychain") {
		t.Fatalf("key set: %q", out)
	}
	if got, err := keyring.Get("Ferry", "anthropic-api-key"); err != nil || got != key {
		t.Fatalf("Secret Service holds %q, %v", got, err)
	}
	db, err := os.ReadFile(filepath.Join(dir, "ferry.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(key)) {
		t.Fatal("the key is in ferry.db as well as in the keychain")
	}

	// A new Ferry on the same data dir takes the key from the keychain.
	fake := testsupport.NewFakeAPI(t)
	srv, err := app.Open(app.Config{Listen: "127.0.0.1:0", APIBase: fake.URL, DataDir: dir, Via: "direct", Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if src := srv.Keys().KeySource(); src != app.KeyFromKeychain {
		t.Errorf("key source %q, want keychain", src)
	}
	wantUpstreamKey(t, srv.BaseURL(), srv.Keys().LocalToken(), fake, key)
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	ferry("", "key", "clear")
	if _, err := keyring.Get("Ferry", "anthropic-api-key"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("after clear the keychain answers %v, want not found", err)
	}
}

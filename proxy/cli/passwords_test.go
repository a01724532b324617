package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// Issue 14: `--via socks5://user:pass@…` and `ferry routes add NAME URL`
// put the password in /proc/PID/cmdline, readable by every local user. A
// password on the command line is warned about; --password-stdin keeps it
// off.
func TestProxyPasswordOffTheCommandLine(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "carol", "stdin-pw")
	dir := t.TempDir()
	vars := map[string]string{"FERRY_API_BASE": fake.URL}

	// The user on the command line, the password on stdin.
	code, out, errs := run(t, "stdin-pw\n", vars, "routes", "add", "office", "socks5://carol@"+socks.Addr, "--password-stdin", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "added") {
		t.Fatalf("routes add --password-stdin: %d %q %q", code, out, errs)
	}
	if strings.Contains(errs, "warning") {
		t.Errorf("a warning without a password on the command line: %q", errs)
	}
	srv, err := app.Open(app.Config{DataDir: dir, APIBase: fake.URL, Getenv: testEnv(nil)})
	if err != nil {
		t.Fatal(err)
	}
	up := false
	for _, h := range srv.Routes().TestNow(context.Background()) {
		up = up || (h.Route == "office" && h.Up)
	}
	srv.Stop(context.Background())
	if !up {
		t.Fatal("the route added with --password-stdin does not authenticate")
	}

	// A password in the URL argument is warned about.
	code, _, errs = run(t, "", vars, "routes", "add", "home", "socks5://dave:argv-pw@127.0.0.1:1", "--data-dir", dir)
	if code != 0 || !strings.Contains(errs, "every user of this machine can read it") || !strings.Contains(errs, "--password-stdin") {
		t.Fatalf("routes add with a password in argv: %d %q", code, errs)
	}
	if strings.Contains(errs, "argv-pw") {
		t.Fatal("the warning repeats the password")
	}
	if code, _, errs := run(t, "pw\n", vars, "routes", "add", "x", "socks5://127.0.0.1:1", "--password-stdin", "--data-dir", dir); code == 0 || !strings.Contains(errs, "no user") {
		t.Fatalf("--password-stdin without a user: %d %q", code, errs)
	}
}

func TestViaPasswordOnTheCommandLineWarns(t *testing.T) {
	for _, tc := range []struct {
		args []string
		vars map[string]string
		warn bool
	}{
		{[]string{"--via", "socks5://u:flag-pw@127.0.0.1:1080"}, nil, true},
		{nil, map[string]string{"FERRY_VIA": "socks5://u:env-pw@127.0.0.1:1080"}, false},
		{[]string{"--via", "socks5://127.0.0.1:1080"}, nil, false},
	} {
		var errb strings.Builder
		env := Env{Stderr: &errb, Stdout: &strings.Builder{}, Getenv: testEnv(tc.vars), Version: "test"}
		if _, err := parseServe("ferry serve", append(tc.args, "--data-dir", t.TempDir()), env); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(errb.String(), "every user of this machine"); got != tc.warn {
			t.Errorf("%v %v: warned %v, want %v (%q)", tc.args, tc.vars, got, tc.warn, errb.String())
		}
		if strings.Contains(errb.String(), "-pw") {
			t.Errorf("the warning repeats the password: %q", errb.String())
		}
	}
}

func TestDBCompactRefusesWhileRunning(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir, "--via", "direct")
	code, _, errs := run(t, "", nil, "db", "compact", "--data-dir", dir)
	if code == 0 || !strings.Contains(errs, "stop it first") {
		t.Fatalf("db compact while running: %d %q\n%s", code, errs, p.out)
	}
}

func TestDBCompact(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, "", nil, "token", "--data-dir", dir); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := run(t, "", nil, "db", "compact", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "compacted") {
		t.Fatalf("db compact: %d %q %q", code, out, errs)
	}
}

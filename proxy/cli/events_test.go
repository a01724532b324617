package cli

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// `ferry events` prints the running Ferry's event stream as it comes:
// pausing it shows a state.changed event.
func TestEventsFollowsTheRunningFerry(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	dir := t.TempDir()
	p := startServe(t, dir, "--api-base", fake.URL, "--via", "direct")

	cmd := exec.Command(os.Args[0], "events", "--data-dir", dir)
	cmd.Env = append(os.Environ(), "FERRY_TEST_AS_FERRY=1", "FERRY_KEYRING=off")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != ": ferry events" {
		t.Fatalf("first line %q: the stream did not open", lines.Text())
	}

	rt, err := app.ReadRuntime(dir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", p.base+"/_ferry/pause", nil)
	req.Header.Set("x-ferry-admin-token", rt.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	got := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "event: ") {
				got <- lines.Text()
				return
			}
		}
		close(got)
	}()
	select {
	case l := <-got:
		if l != "event: state.changed" {
			t.Fatalf("event line %q, want state.changed", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no event printed after pausing")
	}
}

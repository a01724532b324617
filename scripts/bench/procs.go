package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
)

type proc struct {
	name string
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
}

type procSet struct {
	mu    sync.Mutex
	procs []*proc
}

func (ps *procSet) add(p *proc) {
	ps.mu.Lock()
	ps.procs = append(ps.procs, p)
	ps.mu.Unlock()
}

// stopAll ends the children this program started, newest first: SIGTERM,
// then SIGKILL after 15 s (Ferry drains and flushes its queue first).
func (ps *procSet) stopAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := len(ps.procs) - 1; i >= 0; i-- {
		p := ps.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			fmt.Fprintf(os.Stderr, "bench: %s (pid %d) did not stop in 15s; killing it\n", p.name, p.pid)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	ps.procs = nil
}

// startChild runs bin with args, stderr to logPath, and returns what the
// child prints after the first word of its first stdout line ("fakeapi URL",
// "bare URL", "ferry URL TOKEN").
func startChild(ctx context.Context, ps *procSet, name, logPath string, env []string, bin string, args ...string) (*proc, string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("%s stdout: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, "", fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	ps.add(p)
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		} else {
			line <- ""
		}
		io.Copy(io.Discard, out) // the pipe must never fill up
	}()
	select {
	case l := <-line:
		_, rest, ok := strings.Cut(l, " ")
		if !ok || rest == "" {
			return nil, "", fmt.Errorf("%s printed %q, want \"NAME URL ...\" (log: %s)", name, l, logPath)
		}
		return p, rest, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited at start (log: %s)", name, logPath)
	case <-time.After(20 * time.Second):
		return nil, "", fmt.Errorf("%s did not start within 20s (log: %s)", name, logPath)
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

type ferryProc struct {
	pid   int
	url   string
	token string
}

func startFerry(ctx context.Context, ps *procSet, c config, fakeURL string) (ferryProc, error) {
	data := filepath.Join(c.work, "ferry-data")
	if err := os.RemoveAll(data); err != nil {
		return ferryProc{}, fmt.Errorf("clear %s: %w", data, err)
	}
	logPath := filepath.Join(c.work, "ferry.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return ferryProc{}, fmt.Errorf("ferry log: %w", err)
	}
	// --rpm 0: the load is thousands of requests a minute on one key, which
	// the default local rate limit (100 a minute) would answer with 429s.
	args := []string{"serve", "--listen", "127.0.0.1:0", "--api-base", fakeURL, "--data-dir", data, "--via", "direct", "--rpm", "0"}
	if c.storeBodies {
		args = append(args, "--store-bodies")
	}
	cmd := exec.Command(c.ferryBin, args...)
	cmd.Env = append(os.Environ(), "FERRY_KEYRING=off", "FERRY_API_KEY="+benchKey,
		"HTTPS_PROXY=", "HTTP_PROXY=", "ALL_PROXY=", "https_proxy=", "http_proxy=", "all_proxy=")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return ferryProc{}, fmt.Errorf("start ferry (%s): %w", c.ferryBin, err)
	}
	p := &proc{name: "ferry", cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	ps.add(p)

	// runtime.json names the address Ferry got; the health endpoint says
	// it serves.
	deadline := time.Now().Add(30 * time.Second)
	for {
		rt, err := app.ReadRuntime(data)
		if err == nil && rt.PID == p.pid {
			base := rt.BaseURL()
			if healthy(ctx, base) {
				tok, err := ferryToken(ctx, c.ferryBin, data)
				if err != nil {
					return ferryProc{}, err
				}
				return ferryProc{pid: p.pid, url: base, token: tok}, nil
			}
		}
		select {
		case <-p.done:
			return ferryProc{}, fmt.Errorf("ferry exited at start (log: %s)", logPath)
		case <-ctx.Done():
			return ferryProc{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return ferryProc{}, fmt.Errorf("ferry did not serve within 30s (log: %s)", logPath)
		}
	}
}

func healthy(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_ferry/health", nil)
	resp, err := newClient(1).Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// ferryToken asks the running Ferry for its local token, as a user would.
func ferryToken(ctx context.Context, bin, data string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "token", "--data-dir", data)
	cmd.Env = append(os.Environ(), "FERRY_KEYRING=off")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ferry token: %w", err)
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("ferry token printed %q", out)
	}
	return tok, nil
}

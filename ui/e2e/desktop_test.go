//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/ui/dbusmenu"
)

// ferry is one running desktop binary.
type ferry struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string
	dataDir string
	log     *os.File
	exited  chan error
}

func binary(t *testing.T) string {
	bin := os.Getenv("FERRY_BIN")
	if bin == "" {
		t.Fatal("FERRY_BIN must name the desktop ferry binary (scripts/e2e-desktop.sh sets it)")
	}
	if os.Getenv("DISPLAY") == "" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Fatal("needs DISPLAY (Xvfb) and a session bus (dbus-run-session): run scripts/e2e-desktop.sh")
	}
	return bin
}

// runFerry runs `ferry` (the tray app) with args; lang is the LANG value.
func runFerry(t *testing.T, dataDir, apiBase, lang string, args ...string) *ferry {
	t.Helper()
	port := testsupport.FreePort(t)
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	all := append([]string{"--data-dir", dataDir, "--listen", listen, "--api-base", apiBase}, args...)
	cmd := exec.Command(binary(t), all...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "ferry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "FERRY_KEYRING=off", "LANG="+lang, "LANGUAGE=", "LC_ALL=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &ferry{t: t, cmd: cmd, base: "http://" + listen, dataDir: dataDir, log: logf, exited: make(chan error, 1)}
	go func() { f.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-f.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("ferry log:\n%s", b)
		}
	})
	f.waitHealthy()
	return f
}

func (f *ferry) waitHealthy() {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(f.base + "/_ferry/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-f.exited:
			b, _ := os.ReadFile(f.log.Name())
			f.t.Fatalf("ferry exited early (%v):\n%s", err, b)
		case <-time.After(100 * time.Millisecond):
		}
	}
	f.t.Fatal("ferry did not answer /_ferry/health within 60 s")
}

// messageSeq makes every message distinct: the dedup cache is on by
// default and would answer a repeat itself, with no route in its record.
var messageSeq atomic.Int64

// message sends one non-streaming request and returns its status.
func (f *ferry) message(t *testing.T) int {
	t.Helper()
	body := fmt.Sprintf(`{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi %d"}]}`, messageSeq.Add(1))
	req, _ := http.NewRequest("POST", f.base+"/v1/messages", strings.NewReader(body))
	req.Header.Set("x-api-key", "sk-ant-e2e-test-key")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("content-type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("request through ferry: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// lastRoute is the route of the newest usage record (records are flushed
// within a second).
func (f *ferry) lastRoute(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, f.base+"/_ferry/requests?limit=1", nil)
		// Reads of the admin API need a token (issue 14): the admin token
		// from runtime.json, as the CLI uses it.
		if rt, err := app.ReadRuntime(f.dataDir); err == nil {
			req.Header.Set("X-Ferry-Admin-Token", rt.AdminToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var page struct {
				Records []struct {
					Route string `json:"route"`
				} `json:"records"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if len(page.Records) > 0 {
				last = page.Records[0].Route
				if last == want {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("newest record's route = %q, want %q", last, want)
}

func screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("FERRY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "out", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if out, err := exec.Command("import", "-window", "root", path).CombinedOutput(); err != nil {
		t.Fatalf("screenshot %s: %v: %s", path, err, out)
	}
	t.Logf("screenshot: %s", path)
}

// windowNames lists the X windows' names (xdotool), to tell a window opened.
func windowNames(t *testing.T) string {
	out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", ".").Output()
	var names []string
	for _, id := range strings.Fields(string(out)) {
		n, _ := exec.Command("xdotool", "getwindowname", id).Output()
		names = append(names, strings.TrimSpace(string(n)))
	}
	return strings.Join(names, " | ")
}

func waitWindow(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(windowNames(t), substr) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no window named %q; windows: %s", substr, windowNames(t))
}

func findPrefix(root dbusmenu.Item, prefix string) (dbusmenu.Item, bool) {
	if strings.HasPrefix(root.Label, prefix) && !root.Separator {
		return root, true
	}
	for _, c := range root.Children {
		if it, ok := findPrefix(c, prefix); ok {
			return it, true
		}
	}
	return dbusmenu.Item{}, false
}

// windowProcess is the pid of the core's `ferry window` child, 0 when none
// runs (read from /proc: the test sees what the OS sees).
func windowProcess(core int) int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(core) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if bytes.Contains(cmd, []byte("window")) {
				return pid
			}
		}
	}
	return 0
}

// alive reports whether pid runs (and is no zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	return len(f) > 0 && f[0] != "Z"
}

func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); alive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s (pid %d) still runs", what, pid)
		}
	}
}

func waitWindowProcess(t *testing.T, core int) int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if pid := windowProcess(core); pid != 0 {
			return pid
		}
	}
	t.Fatal("no window process started")
	return 0
}

// closeWindow closes the window named name as a user does: focus it and
// press Ctrl+W (there is no window manager under Xvfb to ask).
func closeWindow(t *testing.T, name string) {
	t.Helper()
	out, err := exec.Command("xdotool", "search", "--onlyvisible", "--name", name).Output()
	ids := strings.Fields(string(out))
	if err != nil || len(ids) == 0 {
		t.Fatalf("no window named %q to close: %v", name, err)
	}
	if out, err := exec.Command("xdotool", "windowfocus", "--sync", ids[0]).CombinedOutput(); err != nil {
		t.Fatalf("focus %q: %v %s", name, err, out)
	}
	if out, err := exec.Command("xdotool", "key", "ctrl+w").CombinedOutput(); err != nil {
		t.Fatalf("ctrl+w: %v %s", err, out)
	}
}

// streamThrough sends a slow streaming request through Ferry and returns
// its body once complete.
func (f *ferry) streamThrough(t *testing.T, scenario string) ([]byte, error) {
	body := `{"model":"claude-sonnet-4-5","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	req, _ := http.NewRequest("POST", f.base+"/v1/messages", strings.NewReader(body))
	req.Header.Set("x-api-key", "sk-ant-e2e-test-key")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("content-type", "application/json")
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func TestDesktopTrayOverDBus(t *testing.T) {
	bin := binary(t)
	fake := testsupport.NewFakeAPI(t)
	socks := testsupport.StartMicrosocks(t, "e2e", "secret")
	dataDir := t.TempDir()
	// Two routes stored before the start (Ferry is not running, so the
	// subcommand opens the database itself).
	for _, args := range [][]string{
		{"routes", "add", "Local SOCKS", socks.URL(true)},
		{"routes", "use", "Direct"},
	} {
		cmd := exec.Command(bin, append(args, "--data-dir", dataDir)...)
		cmd.Env = append(os.Environ(), "FERRY_KEYRING=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ferry %v: %v\n%s", args, err, out)
		}
	}

	conn, w := startWatcher(t)

	f := runFerry(t, dataDir, fake.URL, "en_US.UTF-8")
	core := f.cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	menu, err := dbusmenu.Connect(ctx, conn, core)
	if err != nil {
		t.Fatalf("tray item of pid %d: %v (watcher saw %v)", core, err, w.Items())
	}
	root, err := menu.Layout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tray menu: %q", root.Labels())
	for _, want := range []string{"Pause Ferry", "Route", "Copy base URL", "Copy Claude Code environment",
		"Open dashboard", "Settings…", "Start at login", "Quit Ferry"} {
		if _, ok := root.Find(want); !ok {
			t.Errorf("tray menu lacks %q: %q", want, root.Labels())
		}
	}
	// Not a first run (the routes above created the database): no window
	// and no window process until one is asked for.
	if names := windowNames(t); names != "" {
		t.Errorf("windows open at a normal start: %s", names)
	}
	if pid := windowProcess(core); pid != 0 {
		t.Errorf("a window process (pid %d) runs at a normal start", pid)
	}

	if code := f.message(t); code != 200 {
		t.Fatalf("before pausing: status %d, want 200", code)
	}
	if err := menu.ClickLabel(ctx, "Pause Ferry"); err != nil {
		t.Fatal(err)
	}
	if _, err := menu.WaitFor(ctx, "Resume Ferry"); err != nil {
		t.Fatal(err)
	}
	if code := f.message(t); code != 503 {
		t.Fatalf("paused from the tray: status %d, want 503", code)
	}
	if err := menu.ClickLabel(ctx, "Resume Ferry"); err != nil {
		t.Fatal(err)
	}
	if _, err := menu.WaitFor(ctx, "Pause Ferry"); err != nil {
		t.Fatal(err)
	}
	if code := f.message(t); code != 200 {
		t.Fatalf("resumed from the tray: status %d, want 200", code)
	}
	f.lastRoute(t, "Direct")

	// Choose the SOCKS route in the tray: the next request goes through it.
	deadline := time.Now().Add(45 * time.Second)
	var item dbusmenu.Item
	for {
		root, err = menu.Layout(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ok bool
		routeMenu, _ := root.Find("Route")
		if item, ok = findPrefix(routeMenu, "Local SOCKS · "); ok && !strings.Contains(item.Label, "untested") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no probed 'Local SOCKS' item in the Route menu: %+v", root)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("route item: %q checked=%v", item.Label, item.Checked)
	clickUntilChecked(t, ctx, menu, "Local SOCKS · ")
	if code := f.message(t); code != 200 {
		t.Fatalf("through the SOCKS route: status %d", code)
	}
	f.lastRoute(t, "Local SOCKS")

	// "Open dashboard" starts the window process, which shows the
	// dashboard; closing it ends the process.
	if err := menu.ClickLabel(ctx, "Open dashboard"); err != nil {
		t.Fatal(err)
	}
	win := waitWindowProcess(t, core)
	waitWindow(t, "Ferry dashboard")
	time.Sleep(1500 * time.Millisecond) // one refresh, so the charts hold the requests above
	screenshot(t, "dashboard-en.png")
	closeWindow(t, "Ferry dashboard")
	waitGone(t, win, "the window process after its last window closed")
	if _, err := menu.Layout(ctx); err != nil {
		t.Fatalf("tray after the window process ended: %v", err)
	}

	// A second launch starts no second proxy: it asks the running Ferry to
	// show its dashboard and exits 0.
	second := exec.Command(bin, "--data-dir", dataDir)
	second.Env = append(os.Environ(), "FERRY_KEYRING=off")
	if out, err := second.CombinedOutput(); err != nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("second launch: %v\n%s", err, out)
	}
	win = waitWindowProcess(t, core)
	waitWindow(t, "Ferry dashboard")

	// SIGKILL of the window process while a stream is in flight: the
	// stream completes byte-identical, the tray still answers.
	const slow = "slow;gap=300ms;total=3s"
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		b, err := f.streamThrough(t, slow)
		done <- result{b, err}
	}()
	fake.WaitRequests(len(fake.Requests())+1, 10*time.Second)
	if err := syscall.Kill(win, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("stream with the window process killed: %v", r.err)
	}
	if want := fake.ExpectedBody(slow); !bytes.Equal(r.body, want) {
		t.Fatalf("stream with the window process killed differs from the fake's (%d vs %d bytes)", len(r.body), len(want))
	}
	if _, err := menu.Layout(ctx); err != nil {
		t.Fatalf("tray after the window process was killed: %v", err)
	}
	waitGone(t, win, "the killed window process")

	// Quit from the tray: a clean shutdown, exit status 0, no window
	// process left.
	win = windowProcess(core) // the crash restarted it
	if err := menu.ClickLabel(ctx, "Quit Ferry"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-f.exited:
		if err != nil {
			t.Fatalf("Quit Ferry: exit %v, want 0", err)
		}
		f.exited <- nil // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("Quit Ferry did not end the process within 30 s")
	}
	if win != 0 && alive(win) {
		t.Fatalf("the window process (pid %d) outlived Quit", win)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "runtime.json")); !os.IsNotExist(err) {
		t.Fatalf("runtime.json left behind after Quit: %v", err)
	}
}

// SIGKILL of the core: the window process ends with it (end of file on
// its pipe, and the parent-death signal).
func TestDesktopCoreKilledEndsTheWindowProcess(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	conn, _ := startWatcher(t)
	f := runFerry(t, t.TempDir(), fake.URL, "en_US.UTF-8")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	menu, err := dbusmenu.Connect(ctx, conn, f.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := menu.ClickLabel(ctx, "Open dashboard"); err != nil {
		t.Fatal(err)
	}
	win := waitWindowProcess(t, f.cmd.Process.Pid)
	waitWindow(t, "Ferry dashboard")
	if err := f.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-f.exited
	f.exited <- nil
	waitGone(t, win, "the window process after its core was killed")
}

// clickUntilChecked clicks the item whose label starts with prefix until
// the menu shows it checked. The menu is rebuilt whenever the state changes
// (a probe's new latency), and an id read just before a rebuild no longer
// names an item: a panel user would simply click again.
func clickUntilChecked(t *testing.T, ctx context.Context, menu *dbusmenu.Client, prefix string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		root, err := menu.Layout(ctx)
		if err != nil {
			t.Fatal(err)
		}
		routeMenu, _ := root.Find("Route")
		it, ok := findPrefix(routeMenu, prefix)
		if ok && it.Checked {
			return
		}
		if ok {
			if err := menu.Click(ctx, it.ID); err != nil {
				t.Logf("click %q: %v", it.Label, err)
			}
		}
		time.Sleep(1500 * time.Millisecond)
	}
	root, _ := menu.Layout(ctx)
	routeMenu, _ := root.Find("Route")
	t.Fatalf("%q never became the checked route; Route menu: %+v", prefix, routeMenu.Children)
}

func TestDesktopChineseLabels(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	conn, _ := startWatcher(t)
	f := runFerry(t, t.TempDir(), fake.URL, "zh_CN.UTF-8")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	menu, err := dbusmenu.Connect(ctx, conn, f.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	zh := translations(t, "zh-CN")
	for _, key := range []string{"Pause Ferry", "Open dashboard", "Quit Ferry"} {
		if _, err := menu.WaitFor(ctx, zh[key]); err != nil {
			t.Errorf("zh-CN tray lacks %q (%s): %v", zh[key], key, err)
		}
	}
	// A first run: the welcome window, in the window process.
	waitWindowProcess(t, f.cmd.Process.Pid)
	waitWindow(t, zh["Welcome to Ferry"])
	screenshot(t, "welcome-zh-CN.png")
	if err := menu.ClickLabel(ctx, zh["Open dashboard"]); err != nil {
		t.Fatal(err)
	}
	waitWindow(t, zh["Ferry dashboard"])
	time.Sleep(1500 * time.Millisecond)
	screenshot(t, "dashboard-zh-CN.png")
}

// TestDesktopWithoutTray: no StatusNotifierWatcher answers, as on some
// Linux desktops; the dashboard opens as the main window instead.
func TestDesktopWithoutTray(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	f := runFerry(t, t.TempDir(), fake.URL, "en_US.UTF-8")
	waitWindow(t, "Ferry dashboard")
	time.Sleep(1500 * time.Millisecond)
	screenshot(t, "no-tray-fallback-en.png")
	if code := f.message(t); code != 200 {
		t.Fatalf("status %d", code)
	}
	// Closing the main window quits Ferry, cleanly.
	closeWindow(t, "Ferry dashboard")
	select {
	case err := <-f.exited:
		if err != nil {
			t.Fatalf("closing the main window: exit %v, want 0", err)
		}
		f.exited <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("closing the main window did not quit Ferry")
	}
}

func translations(t *testing.T, name string) map[string]string {
	t.Helper()
	m := i18n.Messages(name)
	if m == nil {
		t.Fatalf("no %s translations", name)
	}
	return m
}

// startWatcher connects to the session bus and stands in for a desktop's
// StatusNotifierWatcher, so Ferry's tray registers as it does on a desktop;
// both end with the test.
func startWatcher(t *testing.T) (*dbus.Conn, *dbusmenu.Watcher) {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	w, err := dbusmenu.StartWatcher(conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return conn, w
}

// Switching the language (as the settings window does, through the admin
// API) relabels the tray and restarts the window process on the settings,
// now in Chinese.
func TestDesktopLanguageSwitch(t *testing.T) {
	bin := binary(t)
	fake := testsupport.NewFakeAPI(t)
	dataDir := t.TempDir()
	pre := exec.Command(bin, "token", "--data-dir", dataDir) // not a first run: no welcome
	pre.Env = append(os.Environ(), "FERRY_KEYRING=off")
	if out, err := pre.CombinedOutput(); err != nil {
		t.Fatalf("ferry token: %v\n%s", err, out)
	}
	conn, _ := startWatcher(t)
	f := runFerry(t, dataDir, fake.URL, "en_US.UTF-8")
	core := f.cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	menu, err := dbusmenu.Connect(ctx, conn, core)
	if err != nil {
		t.Fatal(err)
	}
	if err := menu.ClickLabel(ctx, "Settings…"); err != nil {
		t.Fatal(err)
	}
	first := waitWindowProcess(t, core)
	waitWindow(t, "Ferry settings")

	rt, err := app.ReadRuntime(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, f.base+"/_ferry/config/ui.language", strings.NewReader(`{"value":"zh-CN"}`))
	req.Header.Set("X-Ferry-Admin-Token", rt.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("set the language: %s", resp.Status)
	}

	zh := translations(t, "zh-CN")
	if _, err := menu.WaitFor(ctx, zh["Quit Ferry"]); err != nil {
		t.Fatalf("tray not relabelled: %v", err)
	}
	waitGone(t, first, "the English window process")
	waitWindow(t, zh["Ferry settings"])
	if pid := windowProcess(core); pid == 0 || pid == first {
		t.Fatalf("window process %d after the switch (was %d)", pid, first)
	}
	screenshot(t, "settings-zh-CN.png")
}

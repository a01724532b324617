//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/ui/dbusmenu"
)

// TestDesktopFigures measures the desktop app's speed goals and logs them;
// it asserts nothing about time (machines are noisy). It runs only when
// FERRY_DESKTOP_FIGURES=1 (scripts/bench-desktop.sh), since it takes a
// minute. FERRY_HEADLESS_BIN names a headless build to compare with.
func TestDesktopFigures(t *testing.T) {
	if os.Getenv("FERRY_DESKTOP_FIGURES") != "1" {
		t.Skip("figures only with FERRY_DESKTOP_FIGURES=1 (scripts/bench-desktop.sh)")
	}
	bin := binary(t)
	fake := testsupport.NewFakeAPI(t, testsupport.WithRecordLimit(100))
	conn, _ := startWatcher(t)

	// Start to tray: from exec to the tray item answering on D-Bus. The
	// database exists already (`ferry token` made it), so no welcome window
	// opens: the idle figure is for the tray alone.
	dataDir := t.TempDir()
	pre := exec.Command(bin, "token", "--data-dir", dataDir)
	pre.Env = append(os.Environ(), "FERRY_KEYRING=off")
	if out, err := pre.CombinedOutput(); err != nil {
		t.Fatalf("ferry token: %v\n%s", err, out)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", testsupport.FreePort(t))
	cmd := exec.Command(bin, "--data-dir", dataDir, "--listen", listen, "--api-base", fake.URL, "--via", "direct")
	cmd.Env = append(os.Environ(), "FERRY_KEYRING=off", "LANG=en_US.UTF-8")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var menu *dbusmenu.Client
	var err error
	for {
		cctx, ccancel := context.WithTimeout(ctx, 200*time.Millisecond)
		menu, err = dbusmenu.Connect(cctx, conn, cmd.Process.Pid)
		ccancel()
		if err == nil {
			if _, err = menu.Find(ctx, "Quit Ferry"); err == nil {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("tray never appeared: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	toTray := time.Since(start)

	// Idle with no window open, after start-up settled: the core with its
	// tray, and no window process.
	time.Sleep(5 * time.Second)
	if pid := windowProcess(cmd.Process.Pid); pid != 0 {
		t.Fatalf("a window process (pid %d) runs while idle", pid)
	}
	cpu0 := cpuTicks(t, cmd.Process.Pid)
	const idleFor = 60 * time.Second
	time.Sleep(idleFor)
	cpu1 := cpuTicks(t, cmd.Process.Pid)
	idleCPU := float64(cpu1-cpu0) / 100 / idleFor.Seconds() * 100 // USER_HZ is 100 on Linux
	idle := memOf(t, cmd.Process.Pid)

	// 100 requests/s through the desktop app (no window, then the
	// dashboard open), the headless proxy and directly, in interleaved
	// rounds so that the machine's drift falls on all alike.
	headless := ""
	if hb := os.Getenv("FERRY_HEADLESS_BIN"); hb != "" {
		hl := fmt.Sprintf("127.0.0.1:%d", testsupport.FreePort(t))
		h := exec.Command(hb, "serve", "--data-dir", t.TempDir(), "--listen", hl, "--api-base", fake.URL, "--via", "direct")
		h.Env = append(os.Environ(), "FERRY_KEYRING=off")
		if err := h.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = h.Process.Signal(os.Interrupt); _ = h.Wait() }()
		headless = "http://" + hl
		waitUp(t, headless)
	}
	const rounds, each = 3, 5 * time.Second
	var closedLat, desktopLat, directLat, headlessLat []time.Duration
	for range rounds {
		closedLat = append(closedLat, pace(t, "http://"+listen, 100, each)...)
		directLat = append(directLat, pace(t, fake.URL, 100, each)...)
		if headless != "" {
			headlessLat = append(headlessLat, pace(t, headless, 100, each)...)
		}
	}

	// "Open dashboard" to a mapped window with its title and content.
	clicked := time.Now()
	if err := menu.ClickLabel(ctx, "Open dashboard"); err != nil {
		t.Fatal(err)
	}
	winID := waitContent(t, "Ferry dashboard")
	toWindow := time.Since(clicked)
	_ = winID
	win := windowProcess(cmd.Process.Pid)
	if win == 0 {
		t.Fatal("no window process with the dashboard open")
	}
	wcpu0 := cpuTicks(t, win)
	busyStart := time.Now()
	for range rounds {
		desktopLat = append(desktopLat, pace(t, "http://"+listen, 100, each)...)
		directLat = append(directLat, pace(t, fake.URL, 100, each)...)
		if headless != "" {
			headlessLat = append(headlessLat, pace(t, headless, 100, each)...)
		}
	}
	// The window process works only while the desktop rounds run (a third
	// of the time): its CPU is over the whole span, as a user sees it.
	winCPU := float64(cpuTicks(t, win)-wcpu0) / 100 / time.Since(busyStart).Seconds() * 100
	winMem := memOf(t, win)
	busy := memOf(t, cmd.Process.Pid)

	closeWindow(t, "Ferry dashboard")
	waitGone(t, win, "the window process after the dashboard closed")
	time.Sleep(5 * time.Second)
	after := memOf(t, cmd.Process.Pid)

	p := func(d []time.Duration, q float64) float64 {
		if len(d) == 0 {
			return 0
		}
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[int(q*float64(len(s)-1))]) / float64(time.Millisecond)
	}
	mb := func(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
	fmt.Printf("\n| figure | value | goal |\n|---|---|---|\n")
	fmt.Printf("| start to tray | %.0f ms | < 1 s |\n", float64(toTray)/float64(time.Millisecond))
	fmt.Printf("| idle CPU of the core with its tray, no window (%.0f s) | %.3f %% of a core | < 0.2 %% |\n", idleFor.Seconds(), idleCPU)
	fmt.Printf("| idle RSS of the core without bbolt's mapped pages | %s | < 40 MB |\n", mb(idle.rss-idle.bbolt))
	fmt.Printf("| idle RSS / RssAnon / RssFile / bbolt's mapped pages | %s / %s / %s / %s | |\n", mb(idle.rss), mb(idle.anon), mb(idle.file), mb(idle.bbolt))
	fmt.Printf("| \"Open dashboard\" to a mapped window with its title and content | %.0f ms | < 1.5 s |\n", float64(toWindow)/float64(time.Millisecond))
	fmt.Printf("| window process at 100 req/s, dashboard open: CPU / RSS | %.2f %% / %s | |\n", winCPU, mb(winMem.rss))
	fmt.Printf("| core RSS at 100 req/s, dashboard open / 5 s after it closed | %s / %s | |\n", mb(busy.rss), mb(after.rss))
	fmt.Printf("| direct to the fake, p50 / p99 | %.3f / %.3f ms | |\n", p(directLat, .5), p(directLat, .99))
	if headlessLat != nil {
		fmt.Printf("| headless ferry serve added, p50 / p99 | %.3f / %.3f ms | |\n", p(headlessLat, .5)-p(directLat, .5), p(headlessLat, .99)-p(directLat, .99))
	}
	fmt.Printf("| desktop, no window, added, p50 / p99 | %.3f / %.3f ms | |\n", p(closedLat, .5)-p(directLat, .5), p(closedLat, .99)-p(directLat, .99))
	fmt.Printf("| desktop, dashboard open, added, p50 / p99 | %.3f / %.3f ms | within 10 %% of headless |\n", p(desktopLat, .5)-p(directLat, .5), p(desktopLat, .99)-p(directLat, .99))
}

// waitContent waits for a mapped window named name whose pixels are not
// all one colour (the dashboard drew), and returns its id.
func waitContent(t *testing.T, name string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", name).Output()
		ids := strings.Fields(string(out))
		if len(ids) == 0 {
			continue
		}
		// ImageMagick: the number of distinct colours of the window.
		n, err := exec.Command("import", "-window", ids[0], "-format", "%k", "info:").Output()
		if err == nil {
			if k, _ := strconv.Atoi(strings.TrimSpace(string(n))); k > 8 {
				return ids[0]
			}
		}
	}
	t.Fatalf("no window %q with content", name)
	return ""
}

// mem is one process's resident memory, in KiB.
type mem struct {
	rss, anon, file int64
	bbolt           int64 // resident pages of the mapped ferry.db
}

func memOf(t *testing.T, pid int) mem {
	t.Helper()
	var m mem
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			m.rss = n
		case "RssAnon":
			m.anon = n
		case "RssFile":
			m.file = n
		}
	}
	// smaps: the Rss of the mappings of ferry.db.
	sm, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	inDB := false
	for _, line := range strings.Split(string(sm), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			inDB = strings.HasSuffix(line, "/ferry.db")
			continue
		}
		if inDB && len(f) >= 2 && f[0] == "Rss:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			m.bbolt += n
		}
	}
	return m
}

func waitUp(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(base + "/_ferry/health"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never came up", base)
}

// pace sends rate non-streaming requests per second for d, one client, and
// returns each request's latency.
func pace(t *testing.T, base string, rate int, d time.Duration) []time.Duration {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	var lat []time.Duration
	for time.Now().Before(end) {
		<-tick.C
		// Each request distinct: repeats would be answered by the dedup
		// cache, and the figures are of requests that go upstream.
		body := fmt.Sprintf(`{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi %d"}]}`, len(lat))
		req, _ := http.NewRequest("POST", base+"/v1/messages", strings.NewReader(body))
		req.Header.Set("x-api-key", "sk-ant-figures")
		req.Header.Set("content-type", "application/json")
		s := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = bufio.NewReader(resp.Body).WriteTo(discard{})
		resp.Body.Close()
		lat = append(lat, time.Since(s))
	}
	return lat
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) start after ") ".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

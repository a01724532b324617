package winproc

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the window process: with FERRY_WINPROC_TEST
// set it reads the pipe as `ferry window` does and reports on stdout
// (which the supervisor logs).
func TestMain(m *testing.M) {
	switch os.Getenv("FERRY_WINPROC_TEST") {
	case "":
		os.Exit(m.Run())
	case "crash":
		os.Exit(2)
	case "close":
		// A window closed by the user: exit 0 after the hello.
		h, _, err := Open(PipeFile())
		fmt.Printf("hello %s\n", h.Admin)
		if err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	case "closing":
		// The user closed the last window just as a show command came:
		// the process exits without showing it.
		_, cmds, err := Open(PipeFile())
		if err != nil {
			os.Exit(3)
		}
		fmt.Printf("up args=%s\n", strings.Join(os.Args[1:], " "))
		for c := range cmds {
			if c.Show != "" {
				os.Exit(0)
			}
		}
		os.Exit(0)
	default:
		h, cmds, err := Open(PipeFile())
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		fmt.Printf("hello admin=%s token=%s lang=%s args=%s\n", h.Admin, h.Token, h.Language, strings.Join(os.Args[1:], " "))
		for c := range cmds {
			if c.Quit {
				fmt.Println("quit")
				os.Exit(0)
			}
			fmt.Printf("show %s\n", c.Show)
		}
		fmt.Println("eof")
		os.Exit(0)
	}
}

// logBuf collects the supervisor's log.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) waitFor(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		l.mu.Lock()
		ok := strings.Contains(l.b.String(), s)
		l.mu.Unlock()
		if ok {
			return
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Fatalf("log never said %q:\n%s", s, l.b.String())
}

func supervisor(t *testing.T, mode string, main bool, onExit func(bool)) (*Supervisor, *logBuf) {
	t.Helper()
	t.Setenv("FERRY_WINPROC_TEST", mode)
	var log logBuf
	s := New(Options{
		Exe:    os.Args[0],
		Hello:  func() Hello { return Hello{Admin: "http://127.0.0.1:1", Token: "secret-token", Language: "zh-CN"} },
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Main:   main,
		OnExit: onExit,
	})
	t.Cleanup(func() { s.Quit(context.Background()) })
	return s, &log
}

func TestHelloOnThePipeThenCommandsThenQuit(t *testing.T) {
	s, log := supervisor(t, "serve", false, nil)
	if err := s.Show(Dashboard); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "hello admin=http://127.0.0.1:1 token=secret-token lang=zh-CN args=window dashboard")
	pid := s.PID()
	if err := s.Show(Settings); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "show settings")
	if s.PID() != pid {
		t.Fatal("a second Show started a second window process")
	}
	// The token is on the pipe only: not in the child's command line or
	// environment.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(b, []byte("secret-token")) {
		t.Fatal("the admin token is on the window process's command line")
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid)); err == nil && bytes.Contains(b, []byte("secret-token")) {
		t.Fatal("the admin token is in the window process's environment")
	}
	s.Quit(context.Background())
	log.waitFor(t, "quit")
	if s.Running() {
		t.Fatal("window process still running after Quit returned")
	}
	if err := s.Show(Dashboard); err != nil || s.Running() {
		t.Fatalf("Show after Quit started a window process (%v)", err)
	}
}

func TestRestartEndsAndStartsAgain(t *testing.T) {
	s, log := supervisor(t, "serve", false, nil)
	if err := s.Show(Dashboard); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "args=window dashboard")
	first := s.PID()
	if err := s.Restart(context.Background(), Settings); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "args=window settings")
	if s.PID() == first || !s.Running() {
		t.Fatal("Restart did not start a new window process")
	}
}

func TestClosedByTheUserCallsOnExit(t *testing.T) {
	exited := make(chan bool, 1)
	s, _ := supervisor(t, "close", true, func(crashed bool) { exited <- crashed })
	if err := s.Show(Dashboard); err != nil {
		t.Fatal(err)
	}
	if crashed := <-exited; crashed {
		t.Fatal("a window closed by the user counted as a crash")
	}
}

func TestCrashesRestartWithinLimits(t *testing.T) {
	for _, c := range []struct {
		name   string
		main   bool
		starts int
	}{{"tray: 3 crashes in a minute", false, crashLimitTray}, {"no tray: restarted once", true, crashLimitMain}} {
		t.Run(c.name, func(t *testing.T) {
			exited := make(chan bool, 1)
			s, log := supervisor(t, "crash", c.main, func(crashed bool) { exited <- crashed })
			if err := s.Show(Dashboard); err != nil {
				t.Fatal(err)
			}
			if crashed := <-exited; !crashed {
				t.Fatal("OnExit(false) after crashes")
			}
			if !s.Stopped() || s.Running() {
				t.Fatalf("stopped %v running %v after giving up", s.Stopped(), s.Running())
			}
			log.mu.Lock()
			starts := strings.Count(log.b.String(), "window process started")
			log.mu.Unlock()
			if starts != c.starts {
				t.Fatalf("started %d times, want %d", starts, c.starts)
			}
		})
	}
}

func TestOpenWithoutAHelloSaysHowToStart(t *testing.T) {
	if _, _, err := Open(strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "run `ferry`") {
		t.Fatalf("err = %v", err)
	}
	h, cmds, err := Open(strings.NewReader(`{"admin":"http://a","token":"t","language":"en"}` + "\n" + `{"show":"settings"}` + "\n"))
	if err != nil || h.Token != "t" {
		t.Fatal(err)
	}
	if c := <-cmds; c.Show != "settings" {
		t.Fatalf("command %+v", c)
	}
	if _, open := <-cmds; open {
		t.Fatal("commands open after end of file")
	}
}

// A show command that reaches a window process on its way out is not
// lost: a new window process shows that window.
func TestShowRacingTheLastWindowClosing(t *testing.T) {
	exited := make(chan bool, 1)
	s, log := supervisor(t, "closing", false, func(crashed bool) { exited <- crashed })
	if err := s.Show(Dashboard); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "up args=window dashboard")
	if err := s.Show(Settings); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "up args=window settings")
	select {
	case <-exited:
		t.Fatal("OnExit called: the window process counted as closed")
	default:
	}
}

// Without a tray the window is Ferry's main window: closing it quits,
// even when another window was asked for a moment before (the welcome
// window of a first run, shown beside the dashboard at start).
func TestMainWindowClosedQuitsDespiteARecentShow(t *testing.T) {
	exited := make(chan bool, 1)
	s, log := supervisor(t, "closing", true, func(crashed bool) { exited <- crashed })
	if err := s.Show(Dashboard); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "up args=window dashboard")
	if err := s.Show(Settings); err != nil {
		t.Fatal(err)
	}
	select {
	case crashed := <-exited:
		if crashed {
			t.Fatal("the main window's close counted as a crash")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("OnExit not called: Ferry would keep running without its main window")
	}
	if s.Running() {
		t.Fatal("a new window process started after the main window closed")
	}
}

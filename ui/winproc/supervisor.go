package winproc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Crash limits: with a tray, the window process is restarted after a crash
// until it crashed this many times within crashWindow; without one (the
// window is Ferry's main window) it is restarted once.
const (
	crashLimitTray = 3
	crashLimitMain = 2
	crashWindow    = time.Minute
	// quitWait is how long Quit waits for the window process to end by
	// itself before killing it.
	quitWait = 5 * time.Second
	// raceWindow: a window process that exits by itself this soon after
	// a show command did not show it (see wait).
	raceWindow = 2 * time.Second
)

// Options configure a Supervisor.
type Options struct {
	// Exe is the ferry executable; "" is os.Executable().
	Exe string
	// Hello is called at each start: the language may have changed.
	Hello func() Hello
	// Logger receives the window process's stderr, line by line, and the
	// supervisor's own reports.
	Logger *slog.Logger
	// Main says there is no tray: the window is Ferry's main window, a
	// crash restarts it once, and OnExit quits Ferry.
	Main bool
	// OnExit is called when the window process ended by itself (its last
	// window closed: crashed false), or crashed once too often and is not
	// restarted (crashed true). It is not called for Quit or Restart.
	OnExit func(crashed bool)
}

// Supervisor starts the window process on demand, one at a time, and
// keeps it honest: crashes are logged and restarted within limits, Quit
// waits for it.
type Supervisor struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	cur      *proc
	crashes  []time.Time
	stopped  bool // crashed too often: not restarted until asked again
	quitting bool
	wg       sync.WaitGroup // the wait goroutines
}

type proc struct {
	cmd   *exec.Cmd
	pipe  *os.File // our end: commands go here
	logw  *io.PipeWriter
	kind  string
	asked bool // told to end (Quit, Restart): its exit is no crash
	// shown is when a show command last went to it, and for which window.
	shown     time.Time
	shownKind string
	done      chan struct{}
}

// New returns a supervisor; nothing starts until Show.
func New(opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{opts: opts, log: opts.Logger}
}

// Show opens the window kind: in the running window process (which
// raises it, or switches to it), else in a new one. An explicit Show
// starts the window process again even after it crashed too often.
func (s *Supervisor) Show(kind string) error {
	if !ValidKind(kind) {
		return fmt.Errorf("no window %q", kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quitting {
		return nil
	}
	if p := s.cur; p != nil && !p.asked {
		if err := writeLine(p.pipe, Command{Show: kind}); err == nil {
			s.log.Debug("window process: show", "pid", p.cmd.Process.Pid, "window", kind)
			p.shown, p.shownKind = time.Now(), kind
			return nil
		}
		// The pipe broke: the process is ending; a new one takes over.
	}
	s.stopped = false
	return s.start(kind)
}

// Running reports whether a window process runs now.
func (s *Supervisor) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur != nil
}

// PID is the window process's id, 0 when none runs.
func (s *Supervisor) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return 0
	}
	return s.cur.cmd.Process.Pid
}

// Stopped reports that the window process crashed too often and is not
// restarted by itself (the tray says so).
func (s *Supervisor) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Restart ends the running window process and starts a new one showing
// kind (after a language change: built widgets keep their labels). It
// does nothing when none runs.
func (s *Supervisor) Restart(ctx context.Context, kind string) error {
	s.mu.Lock()
	p := s.cur
	if p == nil || s.quitting {
		s.mu.Unlock()
		return nil
	}
	p.asked = true
	s.mu.Unlock()
	s.end(ctx, p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quitting || s.cur != nil {
		return nil
	}
	return s.start(kind)
}

// Quit ends the window process (asks it, then kills it after quitWait or
// when ctx ends) and waits for it. No window starts afterwards.
func (s *Supervisor) Quit(ctx context.Context) {
	s.mu.Lock()
	s.quitting = true
	p := s.cur
	if p != nil {
		p.asked = true
	}
	s.mu.Unlock()
	if p != nil {
		s.end(ctx, p)
	}
	s.wg.Wait()
}

// end asks p to quit, closes the pipe (end of file says the same) and
// waits for it to exit, killing it if it does not in time.
func (s *Supervisor) end(ctx context.Context, p *proc) {
	_ = writeLine(p.pipe, Command{Quit: true})
	_ = p.pipe.Close()
	ctx, cancel := context.WithTimeout(ctx, quitWait)
	defer cancel()
	select {
	case <-p.done:
	case <-ctx.Done():
		s.log.Warn("the window process did not quit in time: killing it", "pid", p.cmd.Process.Pid)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// start runs `ferry window kind` with the pipe as its fd 3 and sends the
// hello. s.mu is held.
func (s *Supervisor) start(kind string) error {
	exe := s.opts.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("start the window process: %w", err)
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start the window process: pipe: %w", err)
	}
	cmd := exec.Command(exe, "window", kind)
	cmd.ExtraFiles = []*os.File{pr} // fd 3 (PipeFD)
	logw := s.logWriter()
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = sysProcAttr()
	// Whatever the window process launched (a file manager for "open the
	// data folder", a D-Bus helper) may hold its output open: its own end
	// is what counts.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		logw.Close()
		return fmt.Errorf("start the window process: %w", err)
	}
	pr.Close() // the child holds its end; ours would keep EOF from coming
	var hello Hello
	if s.opts.Hello != nil {
		hello = s.opts.Hello()
	}
	if err := writeLine(pw, hello); err != nil {
		s.log.Warn("window process: hello", "err", err)
	}
	p := &proc{cmd: cmd, pipe: pw, logw: logw, kind: kind, done: make(chan struct{})}
	s.cur = p
	s.log.Info("window process started", "pid", cmd.Process.Pid, "window", kind)
	s.wg.Add(1)
	go s.wait(p)
	return nil
}

// wait follows one window process to its end and decides what follows.
func (s *Supervisor) wait(p *proc) {
	defer s.wg.Done()
	err := p.cmd.Wait()
	s.log.Info("window process ended", "pid", p.cmd.Process.Pid, "exit", p.cmd.ProcessState.String())
	_ = p.pipe.Close()
	_ = p.logw.Close() // ends the log goroutine
	s.mu.Lock()
	if s.cur == p {
		s.cur = nil
	}
	crashed := err != nil && !p.asked
	restart, gaveUp := false, false
	if crashed && !s.quitting {
		now := time.Now()
		recent := s.crashes[:0]
		for _, t := range s.crashes {
			if now.Sub(t) < crashWindow {
				recent = append(recent, t)
			}
		}
		s.crashes = append(recent, now)
		limit := crashLimitTray
		if s.opts.Main {
			limit = crashLimitMain
		}
		if len(s.crashes) < limit {
			restart = true
			s.log.Error("the window process crashed: starting it again", "err", err, "crashes", len(s.crashes))
		} else {
			gaveUp, s.stopped = true, true
			s.log.Error("the window process crashed too often: not starting it again until asked", "err", err, "crashes", len(s.crashes))
		}
	}
	// A window asked for just as the user closed the last one went to a
	// process already on its way out (its pipe is open until it exits):
	// it was never shown, so a new process shows it. Not for the main
	// window (no tray): closing it quits Ferry, whatever was asked just
	// before (on a first run, the welcome window shown beside it at
	// start; closing the dashboard within 2 s then kept Ferry running).
	if !s.opts.Main && !crashed && !p.asked && !s.quitting && !p.shown.IsZero() && time.Since(p.shown) < raceWindow {
		s.log.Info("a window was asked for while the window process was closing: starting a new one", "window", p.shownKind)
		restart, p.kind = true, p.shownKind
	}
	if restart {
		if err := s.start(p.kind); err != nil {
			s.log.Error("restart the window process", "err", err)
			restart, gaveUp = false, true
		}
	}
	notify := !p.asked && !s.quitting && !restart
	s.mu.Unlock()
	close(p.done)
	if notify && s.opts.OnExit != nil {
		s.opts.OnExit(gaveUp)
	}
}

// logWriter turns the window process's output into log lines until it is
// closed (after the process ended).
func (s *Supervisor) logWriter() *io.PipeWriter {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 4096), maxLine)
		for sc.Scan() {
			s.log.Info("window process: " + sc.Text())
		}
		if sc.Err() != nil { // a line over maxLine: drop the rest
			_, _ = io.Copy(io.Discard, pr)
		}
	}()
	return pw
}

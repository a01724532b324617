// Package winproc runs Ferry's windows in a process of their own: the
// core (which holds the proxy and the tray) starts `ferry window KIND` on
// demand and talks to it over one inherited pipe; the window process
// talks back to the core only through the admin API.
//
// The pipe carries JSON lines from the core to the window process: first
// a Hello (the admin API's address, the admin token, the language), then
// Commands (show a window, quit). Secrets never go on the command line or
// in the environment, which every program the window process launched
// would inherit. End of file on the pipe means the core is gone: the
// window process exits (on Linux the kernel also kills it when the core
// dies, through the parent-death signal).
//
// It knows nothing of Fyne: the supervisor runs in the core, and the
// window process's side (Open) hands the commands to whatever shows the
// windows.
package winproc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Window kinds: the argument of `ferry window KIND` and of Command.Show.
const (
	Dashboard = "dashboard"
	Settings  = "settings"
	Welcome   = "welcome"
	SetupHelp = "setup"
)

// Kinds lists the windows the window process can show.
var Kinds = []string{Dashboard, Settings, Welcome, SetupHelp}

// ValidKind reports whether kind names a window.
func ValidKind(kind string) bool {
	for _, k := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// PipeFD is the window process's file descriptor of the pipe: the first
// of exec.Cmd.ExtraFiles.
const PipeFD = 3

// maxLine bounds one line on the pipe.
const maxLine = 64 << 10

// Hello is the first line on the pipe.
type Hello struct {
	// Admin is the admin API's address, "http://127.0.0.1:7856".
	Admin string `json:"admin"`
	// Token is the admin token.
	Token string `json:"token"`
	// Language is the language choice: "system", "en" or "zh-CN".
	Language string `json:"language"`
	// Main is true when there is no tray: the window is Ferry's main
	// window, and closing it quits Ferry.
	Main bool `json:"main,omitempty"`
}

// Command is every later line: show a window (raising it when it is
// open), or quit.
type Command struct {
	Show string `json:"show,omitempty"`
	Quit bool   `json:"quit,omitempty"`
}

// ErrNoPipe says the process was not started by a Ferry core.
var ErrNoPipe = errors.New("ferry window is started by Ferry itself (the tray's menu), not by hand: run `ferry`")

// Open reads the hello from the inherited pipe and returns the commands
// that follow. The channel closes at end of file: the core is gone or
// told this process to end.
func Open(r io.Reader) (Hello, <-chan Command, error) {
	br := bufio.NewReaderSize(r, 4096)
	line, err := readLine(br)
	if err != nil {
		return Hello{}, nil, fmt.Errorf("%w (%v)", ErrNoPipe, err)
	}
	var h Hello
	if err := json.Unmarshal(line, &h); err != nil || h.Admin == "" || h.Token == "" {
		return Hello{}, nil, fmt.Errorf("%w (bad hello)", ErrNoPipe)
	}
	ch := make(chan Command, 8)
	go func() {
		defer close(ch)
		for {
			line, err := readLine(br)
			if err != nil {
				return // EOF: the core is gone
			}
			var c Command
			if json.Unmarshal(line, &c) != nil {
				continue
			}
			ch <- c
		}
	}()
	return h, ch, nil
}

// PipeFile is the inherited pipe, or nil when there is none.
func PipeFile() *os.File {
	f := os.NewFile(PipeFD, "ferry-core-pipe")
	if f == nil {
		return nil
	}
	if _, err := f.Stat(); err != nil {
		return nil
	}
	// Programs the window process launches (a file manager, a browser)
	// must not inherit the pipe: it would keep the core's commands, and
	// its end of file, from reaching the right process.
	closeOnExec(f)
	return f
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var b strings.Builder
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return nil, err
		}
		b.Write(chunk)
		if b.Len() > maxLine {
			return nil, errors.New("line too long")
		}
		if !isPrefix {
			return []byte(b.String()), nil
		}
	}
}

// writeLine writes v as one JSON line.
func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

package tray

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// ErrNoClipboard says no clipboard tool was found.
var ErrNoClipboard = errors.New("no clipboard tool found: install wl-clipboard (Wayland), xclip or xsel")

// Copy puts text on the clipboard with the platform's tool: the core has
// no window (an X11 or Wayland clipboard belongs to a window), so a tool
// that keeps serving the selection after the core moves on does it:
// wl-copy, xclip or xsel on Linux and the BSDs, pbcopy on macOS, clip on
// Windows. The text goes on the tool's stdin, never its command line.
func Copy(text string) error {
	var tools [][]string
	switch runtime.GOOS {
	case "darwin":
		tools = [][]string{{"pbcopy"}}
	case "windows":
		tools = [][]string{{"clip"}}
	default:
		if os.Getenv("WAYLAND_DISPLAY") != "" {
			tools = append(tools, []string{"wl-copy"})
		}
		tools = append(tools, []string{"xclip", "-selection", "clipboard"}, []string{"xsel", "--clipboard", "--input"})
	}
	for _, t := range tools {
		path, err := exec.LookPath(t[0])
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cmd := exec.CommandContext(ctx, path, t[1:]...)
		cmd.Stdin = strings.NewReader(text)
		err = cmd.Run()
		cancel()
		if err != nil {
			return fmt.Errorf("copy with %s: %w", t[0], err)
		}
		return nil
	}
	return ErrNoClipboard
}

package desktop

import (
	"fmt"
	"log/slog"

	"fyne.io/fyne/v2"

	"github.com/ferry-gateway/ferry/ui"
	"github.com/ferry-gateway/ferry/ui/adminclient"
	"github.com/ferry-gateway/ferry/ui/winproc"
)

// RunWindow is `ferry window KIND`, the window process: it reads the
// hello on the pipe the core handed it, shows KIND, follows the core's
// commands, and returns when the last window closed, the core said quit,
// or the pipe ended (the core is gone). a is the Fyne app main made.
func RunWindow(a fyne.App, args []string, log *slog.Logger) error {
	if len(args) != 1 || !winproc.ValidKind(args[0]) {
		return fmt.Errorf("usage: ferry window %v (started by Ferry itself)", winproc.Kinds)
	}
	pipe := winproc.PipeFile()
	if pipe == nil {
		return winproc.ErrNoPipe
	}
	hello, cmds, err := winproc.Open(pipe)
	if err != nil {
		return err
	}
	core := adminclient.New(hello.Admin, hello.Token)
	d, err := ui.Run(a, core, ui.Options{Show: args[0], Main: hello.Main, Logger: log})
	if err != nil {
		return fmt.Errorf("open the windows: %w", err)
	}
	go func() {
		for c := range cmds {
			if c.Quit {
				break
			}
			d.Show(c.Show)
		}
		// Told to quit, or end of file: the core is gone.
		d.Quit()
	}()
	a.Run()
	return nil
}

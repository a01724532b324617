//go:build !(linux || freebsd || openbsd || netbsd)

package tray

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Notifier shows desktop notifications: osascript on macOS, a PowerShell
// toast on Windows. Neither offers buttons without a registered app, so a
// note's actions are not shown: its body and the tray menu say how to do
// the same. (Verified on Linux only: see the README.)
type Notifier struct{}

// NewNotifier returns the notifier of this system.
func NewNotifier(*slog.Logger) *Notifier { return &Notifier{} }

// Run waits for ctx: no action comes back on these systems.
func (*Notifier) Run(ctx context.Context) { <-ctx.Done() }

// Close has nothing to close here.
func (*Notifier) Close() {}

// Notify shows note without its actions. The texts go in the environment
// of the helper, not in its script, so that no quoting can break out of
// it.
func (*Notifier) Notify(note Note) error {
	title, body := note.Title, note.Body
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "osascript", "-e",
			`display notification (system attribute "FERRY_NOTE_BODY") with title (system attribute "FERRY_NOTE_TITLE")`)
	case "windows":
		script := strings.Join([]string{
			`[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null`,
			`$t = [Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02)`,
			`$x = $t.GetElementsByTagName('text')`,
			`$x.Item(0).AppendChild($t.CreateTextNode($env:FERRY_NOTE_TITLE)) > $null`,
			`$x.Item(1).AppendChild($t.CreateTextNode($env:FERRY_NOTE_BODY)) > $null`,
			`[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('Ferry').Show([Windows.UI.Notifications.ToastNotification]::new($t))`,
		}, "; ")
		cmd = exec.CommandContext(ctx, "powershell", "-NoProfile", "-NonInteractive", "-Command", script)
	default:
		return fmt.Errorf("notify: no notification service on %s", runtime.GOOS)
	}
	cmd.Env = append(os.Environ(), "FERRY_NOTE_TITLE="+title, "FERRY_NOTE_BODY="+body)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("notify: %w: %s", err, out)
	}
	return nil
}

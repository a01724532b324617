//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/ui/internal/dbustest"
	"github.com/ferry-gateway/ferry/ui/tray"
)

// Issue 12, the whole way: a hard daily budget is spent through the real
// binary, the desktop shows the alert on the session's notification
// server with an "Allow one more hour" button, the next request is
// refused, and pressing the button lets requests through again; with a
// tray, and with none (the dashboard as the main window).
func TestDesktopNotificationButtons(t *testing.T) {
	t.Run("no tray", func(t *testing.T) { notificationButtons(t, false) })
	t.Run("tray", func(t *testing.T) { notificationButtons(t, true) })
}

func notificationButtons(t *testing.T, withTray bool) {
	bin := binary(t)
	fake := testsupport.NewFakeAPI(t)
	dataDir := t.TempDir()
	set := exec.Command(bin, "budget", "set", "daily", "0.0001", "--mode", "hard", "--data-dir", dataDir)
	set.Env = append(os.Environ(), "FERRY_KEYRING=off")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("ferry budget set: %v\n%s", err, out)
	}
	notes := dbustest.ServeNotifications(t, "", "body", "actions")
	if withTray {
		startWatcher(t)
	}
	f := runFerry(t, dataDir, fake.URL, "en_US.UTF-8")

	if got := f.message(t); got != 200 {
		t.Fatalf("first message: %d", got)
	}
	// The first request spends the budget: alerts at 80, 95 and 100 %
	// come together; the one at 100 % carries the button.
	var spent dbustest.Shown
	for deadline := time.Now().Add(30 * time.Second); spent.ID == 0; {
		n := notes.Next(t, time.Until(deadline))
		if strings.Contains(n.Summary, "100%") {
			spent = n
		}
	}
	if !slices.Equal(spent.Actions, []string{tray.ActionAllowHour, "Allow one more hour"}) {
		t.Fatalf("the spent budget's note: %+v", spent)
	}
	if got := f.message(t); got != 400 {
		t.Fatalf("a message over the hard cap: %d, want 400", got)
	}
	if err := notes.Press(spent.ID, tray.ActionAllowHour); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if f.message(t) == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("requests still refused after the note's Allow one more hour")
		}
	}
}

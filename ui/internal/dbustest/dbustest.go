// Package dbustest starts a private D-Bus session bus for tests: the tray,
// its menu and the notifications are tested against a real dbus-daemon,
// never the user's own session. It imports only the standard library.
package dbustest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// PrivateBus starts a dbus-daemon for the test and returns its address;
// it ends with the test. Without dbus-daemon the test is skipped, or
// fails under CI (CI=true), which installs it.
func PrivateBus(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dbus-daemon missing (Debian package dbus-daemon)")
		}
		t.Skip("dbus-daemon missing")
	}
	cmd := exec.Command(bin, "--session", "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read bus address: %v", err)
	}
	return strings.TrimSpace(addr)
}

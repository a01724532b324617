// Package e2e holds the end-to-end test of the real desktop binary: under
// Xvfb and a private D-Bus session (scripts/e2e-desktop.sh sets both up),
// Ferry's tray registers with a StatusNotifierWatcher as on a desktop, and
// the test drives it through the menu a panel would show; a fake
// notification server (ui/internal/dbustest) shows its notifications and
// presses their buttons. Build tag e2e.
package e2e

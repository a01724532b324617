// Package autostart registers Ferry to start when the user logs in: a
// .desktop file in the XDG autostart folder on Linux and the BSDs, a
// LaunchAgent on macOS, the HKCU Run key on Windows. It knows nothing of
// Fyne: the core's tray and the settings window both use it.
package autostart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Autostart registers Ferry to start when the user logs in.
type Autostart interface {
	// Enabled reports whether Ferry is registered.
	Enabled() (bool, error)
	// SetEnabled registers or unregisters Ferry.
	SetEnabled(on bool) error
}

// New returns the platform's start-at-login mechanism for the
// executable exe ("" means os.Executable()): a .desktop file in the XDG
// autostart folder on Linux and the BSDs, a LaunchAgent on macOS, the
// HKCU Run key on Windows.
func New(exe string) (Autostart, error) {
	if exe == "" {
		p, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find own executable: %w", err)
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		exe = p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("find home folder: %w", err)
	}
	return newAutostart(runtime.GOOS, home, os.Getenv("XDG_CONFIG_HOME"), exe)
}

// fileAutostart is start at login through one file whose presence is the
// registration (Linux .desktop, macOS LaunchAgent plist).
type fileAutostart struct {
	path    string
	content []byte
}

func newFileAutostart(goos, home, xdgConfig, exe string) (*fileAutostart, error) {
	switch goos {
	case "darwin":
		return &fileAutostart{
			path:    filepath.Join(home, "Library", "LaunchAgents", "dev.ferry.app.plist"),
			content: launchAgent(exe),
		}, nil
	case "linux", "freebsd", "openbsd", "netbsd":
		// XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored.
		dir := xdgConfig
		if dir == "" || !filepath.IsAbs(dir) {
			dir = filepath.Join(home, ".config")
		}
		return &fileAutostart{
			path:    filepath.Join(dir, "autostart", "ferry.desktop"),
			content: desktopEntry(exe),
		}, nil
	}
	return nil, fmt.Errorf("%s: %w", goos, ErrUnsupported)
}

func (f *fileAutostart) Enabled() (bool, error) {
	_, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start at login: %w", err)
	}
	return true, nil
}

func (f *fileAutostart) SetEnabled(on bool) error {
	if !on {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("start at login: remove %s: %w", f.path, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.WriteFile(f.path, f.content, 0o644); err != nil {
		return fmt.Errorf("start at login: write %s: %w", f.path, err)
	}
	return nil
}

// desktopEntry is an XDG autostart entry. Exec quoting follows the Desktop
// Entry spec: the path in double quotes with ", `, $ and \ escaped.
func desktopEntry(exe string) []byte {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	var b bytes.Buffer
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=Ferry\n")
	b.WriteString("Comment=Local gateway for the Claude API\n")
	b.WriteString("Comment[zh_CN]=Claude API 本地网关\n")
	fmt.Fprintf(&b, "Exec=\"%s\"\n", r.Replace(exe))
	b.WriteString("Icon=dev.ferry.app\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.Bytes()
}

// launchAgent is a macOS LaunchAgent that runs Ferry at login.
func launchAgent(exe string) []byte {
	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(exe))
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>dev.ferry.app</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + esc.String() + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`)
}

// Unavailable stands in when New failed: never enabled, and enabling it
// returns Err.
type Unavailable struct{ Err error }

func (n Unavailable) Enabled() (bool, error) { return false, nil }
func (n Unavailable) SetEnabled(bool) error  { return n.Err }

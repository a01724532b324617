package autostart

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutostartLinux(t *testing.T) {
	cases := []struct {
		name, xdg string
		wantDir   func(home string) string
	}{
		{"default", "", func(h string) string { return filepath.Join(h, ".config", "autostart") }},
		{"XDG_CONFIG_HOME", "XDG", func(h string) string { return filepath.Join(h, "xdg", "autostart") }},
		{"relative XDG ignored", "relative/dir", func(h string) string { return filepath.Join(h, ".config", "autostart") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := t.TempDir()
			xdg := c.xdg
			if xdg == "XDG" {
				xdg = filepath.Join(home, "xdg")
			}
			a, err := newFileAutostart("linux", home, xdg, "/opt/Ferry App/ferry")
			if err != nil {
				t.Fatal(err)
			}
			if on, err := a.Enabled(); err != nil || on {
				t.Fatalf("enabled before = %v, %v", on, err)
			}
			if err := a.SetEnabled(true); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(c.wantDir(home), "ferry.desktop"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"[Desktop Entry]", "Type=Application", "Name=Ferry", `Exec="/opt/Ferry App/ferry"`, "X-GNOME-Autostart-enabled=true"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("desktop file lacks %q:\n%s", want, b)
				}
			}
			if on, _ := a.Enabled(); !on {
				t.Fatal("not enabled after SetEnabled(true)")
			}
			if err := a.SetEnabled(false); err != nil {
				t.Fatal(err)
			}
			if err := a.SetEnabled(false); err != nil {
				t.Fatalf("disabling twice: %v", err)
			}
			if on, _ := a.Enabled(); on {
				t.Fatal("still enabled after SetEnabled(false)")
			}
		})
	}
}

func TestAutostartMacOSFile(t *testing.T) {
	home := t.TempDir()
	a, err := newFileAutostart("darwin", home, "", "/Applications/Ferry.app/Contents/MacOS/ferry")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(home, "Library", "LaunchAgents", "dev.ferry.app.plist"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<string>dev.ferry.app</string>", "<string>/Applications/Ferry.app/Contents/MacOS/ferry</string>", "<key>RunAtLoad</key>"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plist lacks %q", want)
		}
	}
}

func TestAutostartUnknownPlatform(t *testing.T) {
	if _, err := newFileAutostart("plan9", "/home/x", "", "/bin/ferry"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

func TestDesktopEntryEscapesExec(t *testing.T) {
	b := string(desktopEntry(`/home/a"b/$x/ferry`))
	if !strings.Contains(b, `Exec="/home/a\"b/\$x/ferry"`) {
		t.Fatalf("Exec not escaped:\n%s", b)
	}
}

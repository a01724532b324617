package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// FyneApp.toml names the app as `fyne package` needs it, and its icon is
// a square PNG that exists.
func TestFyneAppMetadata(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s*` + name + `\s*=\s*"([^"]*)"`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("FyneApp.toml has no %s", name)
		}
		return string(m[1])
	}
	if got := field("ID"); got != "dev.ferry.app" {
		t.Errorf("ID = %q", got)
	}
	if got := field("Name"); got != "Ferry" {
		t.Errorf("Name = %q", got)
	}
	if got := field("Version"); !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(got) {
		t.Errorf("Version = %q", got)
	}
	f, err := os.Open(filepath.Join("..", field("Icon")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("icon: %v", err)
	}
	if cfg.Width != cfg.Height || cfg.Width < 256 {
		t.Errorf("icon is %dx%d, want square ≥256", cfg.Width, cfg.Height)
	}
}

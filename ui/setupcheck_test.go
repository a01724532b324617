package ui

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	curToken = "sk-ferry-1111111111111111111111111111111111111111111111111"
	oldToken = "sk-ferry-2222222222222222222222222222222222222222222222222"
)

func writeHome(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(home, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

func TestCheckSetup(t *testing.T) {
	type want struct {
		kind  TrapKind
		where string // relative to home, or SessionEnvironment
		v     string
	}
	cases := []struct {
		name  string
		files map[string]string
		env   map[string]string
		want  []want
	}{
		{name: "clean home", files: map[string]string{
			".bashrc": "export PATH=$PATH:~/bin\nexport ANTHROPIC_BASE_URL=http://127.0.0.1:7856\nexport ANTHROPIC_API_KEY=" + curToken + "\n",
		}},
		{name: "empty home"},
		{name: "https proxy in bashrc", files: map[string]string{
			".bashrc": "# proxy for work\nexport HTTPS_PROXY=http://10.0.0.1:3128\n",
		}, want: []want{{TrapHTTPSProxy, ".bashrc", "HTTPS_PROXY"}}},
		{name: "socks in zshrc, lowercase, quoted", files: map[string]string{
			".zshrc": "export https_proxy='socks5://127.0.0.1:1080'\n",
		}, want: []want{{TrapSocksProxy, ".zshrc", "https_proxy"}}},
		{name: "commented out lines are ignored", files: map[string]string{
			".profile": "# export HTTPS_PROXY=http://x:1\n  #export ANTHROPIC_BASE_URL=https://elsewhere\n",
		}},
		{name: "base URL elsewhere in bash_profile", files: map[string]string{
			".bash_profile": "export ANTHROPIC_BASE_URL=\"https://openrouter.example/api\" # old\n",
		}, want: []want{{TrapBaseURLElsewhere, ".bash_profile", "ANTHROPIC_BASE_URL"}}},
		{name: "localhost with slash is Ferry", files: map[string]string{
			".profile": "ANTHROPIC_BASE_URL=http://localhost:7856/\nexport ANTHROPIC_BASE_URL\n",
		}},
		{name: "other port is elsewhere", files: map[string]string{
			".profile": "export ANTHROPIC_BASE_URL=http://127.0.0.1:9999\n",
		}, want: []want{{TrapBaseURLElsewhere, ".profile", "ANTHROPIC_BASE_URL"}}},
		{name: "stale token on one export line", files: map[string]string{
			".bashrc": "export ANTHROPIC_BASE_URL=http://127.0.0.1:7856 ANTHROPIC_API_KEY=" + oldToken + "\n",
		}, want: []want{{TrapStaleToken, ".bashrc", "ANTHROPIC_API_KEY"}}},
		{name: "real Anthropic key is not a stale token", files: map[string]string{
			".bashrc": "export ANTHROPIC_API_KEY=sk-ant-api03-xyz\n",
		}},
		{name: "fish config", files: map[string]string{
			".config/fish/config.fish": "set -gx HTTPS_PROXY socks5h://127.0.0.1:1080\nset -x ANTHROPIC_AUTH_TOKEN " + oldToken + "\n",
		}, want: []want{{TrapStaleToken, ".config/fish/config.fish", "ANTHROPIC_AUTH_TOKEN"}, {TrapSocksProxy, ".config/fish/config.fish", "HTTPS_PROXY"}}},
		{name: "claude settings env block", files: map[string]string{
			".claude/settings.json": `{"model":"opus","env":{"ANTHROPIC_BASE_URL":"https://api.anthropic.com","ANTHROPIC_API_KEY":"` + oldToken + `","HTTPS_PROXY":"http://proxy:8080"}}`,
		}, want: []want{
			{TrapStaleToken, ".claude/settings.json", "ANTHROPIC_API_KEY"},
			{TrapBaseURLElsewhere, ".claude/settings.json", "ANTHROPIC_BASE_URL"},
			{TrapHTTPSProxy, ".claude/settings.json", "HTTPS_PROXY"},
		}},
		{name: "broken settings.json is skipped", files: map[string]string{
			".claude/settings.json": `{"env": `,
		}},
		{name: "session environment", env: map[string]string{
			"HTTPS_PROXY": "socks5://127.0.0.1:1080", "ANTHROPIC_BASE_URL": "http://127.0.0.1:7856",
		}, want: []want{{TrapSocksProxy, SessionEnvironment, "HTTPS_PROXY"}}},
		{name: "several files", files: map[string]string{
			".bashrc": "export HTTPS_PROXY=http://a:1\n",
			".zshrc":  "export ANTHROPIC_API_KEY=" + oldToken + "; export FOO=1\n",
		}, want: []want{{TrapHTTPSProxy, ".bashrc", "HTTPS_PROXY"}, {TrapStaleToken, ".zshrc", "ANTHROPIC_API_KEY"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := writeHome(t, c.files)
			in := SetupInput{Home: home, BaseURL: "http://127.0.0.1:7856", LocalToken: curToken}
			if c.env != nil {
				in.Getenv = func(k string) string { return c.env[k] }
			}
			traps := CheckSetup(in)
			var got []want
			for _, tr := range traps {
				where := tr.Where
				if where != SessionEnvironment {
					rel, err := filepath.Rel(home, where)
					if err != nil {
						t.Fatal(err)
					}
					where = filepath.ToSlash(rel)
				}
				got = append(got, want{tr.Kind, where, tr.Var})
				if tr.Kind == TrapStaleToken && tr.Value == oldToken {
					t.Errorf("stale token shown in full")
				}
				if p, f := TrapText(tr); p == "" || f == "" {
					t.Errorf("trap %v has no text", tr.Kind)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("traps:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestSameFerryURL(t *testing.T) {
	ours := "http://127.0.0.1:7856"
	for v, want := range map[string]bool{
		"http://127.0.0.1:7856":     true,
		"http://127.0.0.1:7856/":    true,
		"http://localhost:7856":     true,
		"http://[::1]:7856":         true,
		"https://127.0.0.1:7856":    false,
		"http://127.0.0.1:7857":     false,
		"https://api.anthropic.com": false,
		"http://127.0.0.1:7856/v1":  false,
	} {
		if got := SameFerryURL(v, ours); got != want {
			t.Errorf("SameFerryURL(%q) = %v, want %v", v, got, want)
		}
	}
}

// Issue 14: the setup help showed HTTPS_PROXY as found, password included.
func TestSetupCheckMasksProxyPassword(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte("export HTTPS_PROXY=http://alice:s3cret@10.0.0.1:3128\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	traps := CheckSetup(SetupInput{Home: home, Getenv: func(k string) string {
		if k == "https_proxy" {
			return "socks5://bob:hunter2@127.0.0.1:1080"
		}
		return ""
	}})
	if len(traps) != 2 {
		t.Fatalf("traps %+v", traps)
	}
	for _, tr := range traps {
		if strings.Contains(tr.Value, "s3cret") || strings.Contains(tr.Value, "hunter2") || !strings.Contains(tr.Value, ":***@") {
			t.Errorf("%s shown as %q", tr.Var, tr.Value)
		}
	}
}

package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Both files parse, have the same keys, no empty text, and keep every
// template field of the key.
func TestTranslationsMatch(t *testing.T) {
	en, zh := Messages(English), Messages(Chinese)
	if len(en) < 50 || len(zh) < 50 {
		t.Fatalf("en has %d keys, zh-CN %d: did the files load?", len(en), len(zh))
	}
	field := regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)
	for k, v := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("zh-CN.json lacks %q (in en.json)", k)
		}
		if v != k {
			t.Errorf("en.json: %q maps to %q; the English key is the English text", k, v)
		}
	}
	for k, v := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q (in zh-CN.json)", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("zh-CN.json: empty translation for %q", k)
		}
		for _, f := range field.FindAllString(k, -1) {
			if !strings.Contains(v, f) {
				t.Errorf("zh-CN.json: %q lost %s", k, f)
			}
		}
	}
}

// Fyne's lang.AddTranslationsFS reads Dir/<tag>.json from FS: every
// language has its file there and nothing else is in the directory.
func TestFSLayout(t *testing.T) {
	entries, err := fs.ReadDir(FS(), Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"en.json", "zh-CN.json"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("files %v, want %v", names, want)
	}
}

func TestResolve(t *testing.T) {
	cases := []struct {
		name   string
		choice string
		env    map[string]string
		want   string
	}{
		{"explicit English", English, map[string]string{"LANG": "zh_CN.UTF-8"}, English},
		{"explicit Chinese", Chinese, map[string]string{"LANG": "en_US.UTF-8"}, Chinese},
		{"system from LANG", System, map[string]string{"LANG": "zh_CN.UTF-8"}, Chinese},
		{"empty choice is system", "", map[string]string{"LANG": "zh_CN.UTF-8"}, Chinese},
		{"nothing set", System, nil, English},
		{"unsupported language", System, map[string]string{"LANG": "fr_FR.UTF-8"}, English},
		{"LC_ALL before LANG", System, map[string]string{"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, English},
		{"LC_MESSAGES before LANG", System, map[string]string{"LC_MESSAGES": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, Chinese},
		{"LANGUAGE list, first supported", System, map[string]string{"LANGUAGE": "fr:zh_CN:en", "LANG": "en_US.UTF-8"}, Chinese},
		{"LANGUAGE ignored under C", System, map[string]string{"LANGUAGE": "zh_CN", "LANG": "C"}, English},
		{"LANGUAGE with nothing supported", System, map[string]string{"LANGUAGE": "fr:de", "LANG": "zh_CN.UTF-8"}, Chinese},
		{"BCP 47 form", System, map[string]string{"LANG": "zh-Hans"}, Chinese},
		{"desktop override: the session's own", System, map[string]string{
			EnvOverride: "1", "LANGUAGE": "zh_CN", "LC_ALL": "zh_CN.UTF-8",
			EnvOrigLanguage: "", EnvOrigLCAll: "", "LANG": "en_US.UTF-8"}, English},
		{"unknown choice reads the system", "klingon", map[string]string{"LANG": "zh_CN.UTF-8"}, Chinese},
	}
	vars := []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", EnvOverride, EnvOrigLanguage, EnvOrigLCAll}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, c.env[v])
				if c.env[v] == "" {
					os.Unsetenv(v)
				}
			}
			if got := Resolve(c.choice); got != c.want {
				t.Errorf("Resolve(%q) = %q, want %q", c.choice, got, c.want)
			}
		})
	}
}

func TestT(t *testing.T) {
	if got := T(Chinese, "Pause Ferry"); got != "暂停 Ferry" {
		t.Errorf("T(zh-CN, Pause Ferry) = %q", got)
	}
	if got := T(English, "Pause Ferry"); got != "Pause Ferry" {
		t.Errorf("T(en, Pause Ferry) = %q", got)
	}
	// A key with no translation shows the English text.
	if got := T(Chinese, "no such key"); got != "no such key" {
		t.Errorf("missing key: %q", got)
	}
	if got := T("fr", "Pause Ferry"); got != "Pause Ferry" {
		t.Errorf("unknown language: %q", got)
	}
	got := Tf(Chinese, "Listening on {{.URL}}", map[string]any{"URL": "http://127.0.0.1:8765"})
	if !strings.Contains(got, "http://127.0.0.1:8765") || strings.Contains(got, "{{") || got == "Listening on http://127.0.0.1:8765" {
		t.Errorf("Tf = %q", got)
	}
}

var callT = regexp.MustCompile(`i18n\.Tf?\(\s*[^,()]+,\s*("(?:[^"\\]|\\.)*"|` + "`[^`]*`" + `)`)

// Every literal key passed to T or Tf anywhere in the module (outside ui/,
// whose lang.L keys ui's own test checks) has a translation in both
// languages.
func TestKeysUsedInCodeExist(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range callT.FindAllStringSubmatch(string(b), -1) {
			k, err := strconv.Unquote(m[1])
			if err != nil {
				t.Errorf("%s: bad key literal %s", p, m[1])
				continue
			}
			for _, l := range Languages() {
				if !Has(l, k) {
					t.Errorf("%s: %s lacks %q", p, l, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

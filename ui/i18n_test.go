package ui

import (
	"encoding/json"
	"fyne.io/fyne/v2/lang"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/assets/i18n"
)

var langCall = regexp.MustCompile(`lang\.(?:L|X)\(("(?:[^"\\]|\\.)*"|` + "`[^`]*`" + `)`)

// usedKeys scans this package's Go sources (not tests) for lang.L / lang.X
// keys.
func usedKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range langCall.FindAllStringSubmatch(string(b), -1) {
			k, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatalf("%s: bad key literal %s: %v", f, m[1], err)
			}
			seen[k] = true
		}
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func translationKeys(t *testing.T, tag string) map[string]string {
	t.Helper()
	m := i18n.Messages(tag)
	if m == nil {
		t.Fatalf("no %s translations", tag)
	}
	return m
}

// Every key used in the code exists in both languages, and the two files
// have the same keys.
func TestTranslationsComplete(t *testing.T) {
	keys := usedKeys(t)
	if len(keys) < 50 {
		t.Fatalf("found only %d keys: is the scanner broken?", len(keys))
	}
	en, zh := translationKeys(t, i18n.English), translationKeys(t, i18n.Chinese)
	for _, k := range keys {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
		if _, ok := zh[k]; !ok {
			t.Errorf("zh-CN.json lacks %q", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("zh-CN.json lacks %q (in en.json)", k)
		}
	}
	for k, v := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q (in zh-CN.json)", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("zh-CN.json: empty translation for %q", k)
		}
		// Template fields must survive translation.
		for _, f := range regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`).FindAllString(k, -1) {
			if !strings.Contains(v, f) {
				t.Errorf("zh-CN.json: %q lost %s", k, f)
			}
		}
	}
}

// TestPrintMissingKeys lists keys missing from the translations as JSON,
// to paste into the files: FERRY_PRINT_KEYS=1 go test -run PrintMissing.
func TestPrintMissingKeys(t *testing.T) {
	if os.Getenv("FERRY_PRINT_KEYS") == "" {
		t.Skip("set FERRY_PRINT_KEYS=1")
	}
	zh := translationKeys(t, i18n.Chinese)
	out := map[string]string{}
	for _, k := range usedKeys(t) {
		if _, ok := zh[k]; !ok {
			out[k] = k
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	t.Log("\n" + string(b))
}

// Choosing a language and then "system" again (across a restart, which
// keeps the environment) gives the session's own variables back.
func TestApplyLanguageRoundTrip(t *testing.T) {
	for _, k := range []string{envOverride, envOrigLanguage, envOrigLCAll} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("LANGUAGE", "fr_FR")
	t.Setenv("LC_ALL", "")
	os.Unsetenv("LC_ALL")
	t.Cleanup(func() { _ = ApplyLanguage(LanguageEnglish) })

	if err := ApplyLanguage(LanguageChinese); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("LANGUAGE") != "zh_CN" || os.Getenv("LC_ALL") != "zh_CN.UTF-8" {
		t.Fatalf("LANGUAGE=%q LC_ALL=%q", os.Getenv("LANGUAGE"), os.Getenv("LC_ALL"))
	}
	if got := lang.L("Pause Ferry"); got != "暂停 Ferry" {
		t.Fatalf("after choosing Chinese: %q", got)
	}
	// A second start with the same choice keeps the originals.
	if err := ApplyLanguage(LanguageChinese); err != nil {
		t.Fatal(err)
	}
	if err := ApplyLanguage(LanguageSystem); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("LANGUAGE") != "fr_FR" {
		t.Errorf("LANGUAGE = %q, want the original fr_FR", os.Getenv("LANGUAGE"))
	}
	if _, set := os.LookupEnv("LC_ALL"); set {
		t.Errorf("LC_ALL left set: %q", os.Getenv("LC_ALL"))
	}
	if os.Getenv(envOverride) != "" {
		t.Error("override marker left set")
	}
}

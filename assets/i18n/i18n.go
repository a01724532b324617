// Package i18n holds Ferry's translations (English and Simplified Chinese)
// and serves them to every part that shows text to a person: the CLI, the
// core (tray, notifications, the settings registry's help text) and the
// windows.
//
// The files are Fyne's format (flat JSON, the English text as the key,
// text/template fields such as {{.Route}}), named after their language tag,
// so the windows load the very same files into Fyne's lang package
// (lang.AddTranslationsFS(i18n.FS(), i18n.Dir)). This package itself
// knows nothing of Fyne: proxy/ may import it (decision 4 of issue 8).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"text/template"
)

// Language choices: the stored setting "language" holds one of these.
const (
	System  = "system"
	English = "en"
	Chinese = "zh-CN"
)

// Languages lists the language tags Ferry has translations for, English
// (the fallback) first.
func Languages() []string { return []string{English, Chinese} }

// Dir is the directory inside FS that holds the translation files.
const Dir = "translations"

//go:embed translations/*.json
var files embed.FS

// FS returns the embedded translation files (Dir/en.json,
// Dir/zh-CN.json), for lang.AddTranslationsFS(i18n.FS(), i18n.Dir).
func FS() embed.FS { return files }

// Environment variables the desktop sets when the user forces a language
// (ui.ApplyLanguage): while FERRY_LANG_OVERRIDE is set, the session's own
// LANGUAGE and LC_ALL are kept in the FERRY_ORIG_* variables.
const (
	EnvOverride     = "FERRY_LANG_OVERRIDE"
	EnvOrigLanguage = "FERRY_ORIG_LANGUAGE"
	EnvOrigLCAll    = "FERRY_ORIG_LC_ALL"
)

// Resolve turns a language choice into the tag of a translation Ferry has:
// English or Chinese as given, anything else (System, "") from the
// environment as gettext reads it: LANGUAGE (a colon-separated list of
// preferences), then the first set of LC_ALL, LC_MESSAGES and LANG. A
// language Ferry has no translation for gives English.
//
// The variables are what Linux and the BSDs use; on macOS and Windows a
// terminal usually sets LANG, and otherwise the choice "system" reads as
// English in the CLI (the windows ask the OS through Fyne).
func Resolve(choice string) string { return ResolveEnv(choice, os.Getenv) }

// ResolveEnv is Resolve reading the environment through getenv.
func ResolveEnv(choice string, getenv func(string) string) string {
	if c := supported(choice); c != "" && choice != System {
		return c
	}
	return fromEnv(getenv)
}

func fromEnv(getenv func(string) string) string {
	language, lcAll := getenv("LANGUAGE"), getenv("LC_ALL")
	if getenv(EnvOverride) != "" {
		// The desktop forced LANGUAGE/LC_ALL for itself; "system" means the
		// session's own.
		language, lcAll = getenv(EnvOrigLanguage), getenv(EnvOrigLCAll)
	}
	locale := lcAll
	for _, k := range []string{"LC_MESSAGES", "LANG"} {
		if locale == "" {
			locale = getenv(k)
		}
	}
	// gettext ignores LANGUAGE when the locale is C/POSIX.
	if language != "" && !isCLocale(locale) {
		for _, l := range strings.Split(language, ":") {
			if c := supported(l); c != "" {
				return c
			}
		}
	}
	if c := supported(locale); c != "" {
		return c
	}
	return English
}

func isCLocale(l string) bool {
	base, _, _ := strings.Cut(l, ".")
	return base == "C" || base == "POSIX"
}

// supported maps a locale name (zh_CN.UTF-8, zh-Hans, en_US, en) to a
// translation's tag, or "" when Ferry has none. Every Chinese locale gets
// the Simplified Chinese translation: the only Chinese one, and closer than
// English.
func supported(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, ".@"); i >= 0 {
		l = l[:i]
	}
	base, _, _ := strings.Cut(strings.ReplaceAll(l, "_", "-"), "-")
	switch base {
	case "en":
		return English
	case "zh":
		return Chinese
	}
	return ""
}

type catalog map[string]map[string]string

var load = sync.OnceValues(func() (catalog, error) {
	c := catalog{}
	for _, l := range Languages() {
		b, err := files.ReadFile(Dir + "/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("read %s translations: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("parse %s translations: %w", l, err)
		}
		c[l] = m
	}
	return c, nil
})

// Messages returns a copy of the translations of lang (a tag from
// Languages), key → text; nil for a language Ferry has none for.
func Messages(lang string) map[string]string {
	c, err := load()
	if err != nil || c[lang] == nil {
		return nil
	}
	out := make(map[string]string, len(c[lang]))
	for k, v := range c[lang] {
		out[k] = v
	}
	return out
}

// Has reports whether lang has a translation for key.
func Has(lang, key string) bool {
	c, err := load()
	if err != nil {
		return false
	}
	_, ok := c[lang][key]
	return ok
}

// T returns key in lang (a tag from Resolve). The keys are the English
// texts, so a missing translation shows the English text rather than
// nothing; the tests keep both files complete.
func T(lang, key string) string {
	c, err := load()
	if err != nil {
		return key
	}
	if v, ok := c[lang][key]; ok && v != "" {
		return v
	}
	return key
}

// Tf is T for a text with template fields, as Fyne's lang.X:
// Tf(l, "Listening on {{.URL}}", map[string]any{"URL": u}).
func Tf(lang, key string, data any) string {
	s := T(lang, key)
	tmpl, err := template.New("").Parse(s)
	if err != nil {
		return s
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return s
	}
	return b.String()
}

// Match maps a language tag or locale name (zh-CN, zh_TW.UTF-8, en-GB) to
// the tag of a translation Ferry has; English when it has none.
func Match(tag string) string {
	if c := supported(tag); c != "" {
		return c
	}
	return English
}

// FromAcceptLanguage picks the translation for an HTTP Accept-Language
// header: the first listed language Ferry has, else English. Weights are
// not sorted: clients list their preference first.
func FromAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag, _, _ := strings.Cut(part, ";")
		if c := supported(tag); c != "" {
			return c
		}
	}
	return English
}

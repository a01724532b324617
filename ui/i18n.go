package ui

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/assets/i18n"
)

// The translations live in assets/i18n, shared with the core and the CLI.
// They are named after their locale (en.json, zh-CN.json): Fyne's lang
// package (go-i18n underneath) takes the language tag from the file name.

// Language choices stored in Settings.Language.
const (
	LanguageSystem  = i18n.System
	LanguageEnglish = i18n.English
	LanguageChinese = i18n.Chinese
)

// Environment variables through which the language is forced. Fyne reads
// the user's languages from LANGUAGE / LC_ALL / LC_MESSAGES / LANG on Linux
// and the BSDs (github.com/jeandeaual/go-locale); the originals are kept in
// the FERRY_ORIG_* variables so that a restart after choosing "system"
// gets the session's own language back.
// i18n.Resolve reads the same variables for the CLI and the core.
const (
	envOverride     = i18n.EnvOverride
	envOrigLanguage = i18n.EnvOrigLanguage
	envOrigLCAll    = i18n.EnvOrigLCAll
)

// ApplyLanguage makes Fyne's lang package (and so every lang.L in this
// package and in Fyne's own dialogs) use choice: LanguageSystem,
// LanguageEnglish or LanguageChinese. Run calls it with the stored setting
// before the first window is built; switching while running needs a
// restart (Options.Restart) because built widgets keep their labels.
//
// On Linux and the BSDs it sets LANGUAGE and LC_ALL for this process (and
// so for a restarted one). Elsewhere Fyne asks the OS, so Ferry's own
// strings for choice are also registered under the system locale.
func ApplyLanguage(choice string) error {
	if os.Getenv(envOverride) == "" {
		_ = os.Setenv(envOrigLanguage, os.Getenv("LANGUAGE"))
		_ = os.Setenv(envOrigLCAll, os.Getenv("LC_ALL"))
	}
	switch choice {
	case LanguageEnglish, LanguageChinese:
		posix := strings.ReplaceAll(choice, "-", "_")
		_ = os.Setenv(envOverride, "1")
		_ = os.Setenv("LANGUAGE", posix)
		_ = os.Setenv("LC_ALL", posix+".UTF-8")
	default:
		if os.Getenv(envOverride) != "" {
			restoreEnv("LANGUAGE", os.Getenv(envOrigLanguage))
			restoreEnv("LC_ALL", os.Getenv(envOrigLCAll))
			_ = os.Unsetenv(envOverride)
		}
	}
	// Adding translations makes Fyne re-read the user's languages.
	if err := lang.AddTranslationsFS(i18n.FS(), i18n.Dir); err != nil {
		return fmt.Errorf("load translations: %w", err)
	}
	if choice != LanguageEnglish && choice != LanguageChinese {
		return nil
	}
	sys := lang.SystemLocale()
	if sameLanguage(sys, choice) || runtime.GOOS == "linux" {
		return nil
	}
	data, err := i18n.FS().ReadFile(i18n.Dir + "/" + choice + ".json")
	if err != nil {
		return fmt.Errorf("read %s translations: %w", choice, err)
	}
	if err := lang.AddTranslationsForLocale(data, sys); err != nil {
		return fmt.Errorf("register %s translations for %s: %w", choice, sys, err)
	}
	return nil
}

func restoreEnv(key, v string) {
	if v == "" {
		_ = os.Unsetenv(key)
		return
	}
	_ = os.Setenv(key, v)
}

func sameLanguage(l fyne.Locale, choice string) bool {
	return strings.EqualFold(l.LanguageString(), choice) ||
		strings.EqualFold(strings.SplitN(string(l), "-", 2)[0], strings.SplitN(choice, "-", 2)[0])
}

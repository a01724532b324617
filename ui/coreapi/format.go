package coreapi

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// FormatUSD shows dollars with cents, and more digits below a cent so that
// small spends do not read as $0.00.
func FormatUSD(v float64) string {
	switch {
	case v == 0:
		return "$0.00"
	case math.Abs(v) < 0.01:
		return fmt.Sprintf("$%.4f", v)
	default:
		return fmt.Sprintf("$%.2f", v)
	}
}

// FormatMS shows a duration in milliseconds, or seconds above 10 s.
func FormatMS(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// FormatCount shows a count with k/M suffixes.
func FormatCount(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case a >= 1e4:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case a == math.Trunc(a):
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return trimZero(fmt.Sprintf("%.2f", v))
	}
}

func trimZero(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' && containsDot(s) {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func containsDot(s string) bool {
	for i := range len(s) {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

// FormatPercent shows a 0..1 ratio as a percentage.
func FormatPercent(r float64) string {
	if r >= 0.9995 {
		return "100%"
	}
	return fmt.Sprintf("%.1f%%", r*100)
}

// ClaudeEnvironment is the shell command that points Claude Code at Ferry:
// the POSIX export form, or the PowerShell form on Windows.
func ClaudeEnvironment(baseURL, token, goos string) string {
	if goos == "windows" {
		return fmt.Sprintf("$env:ANTHROPIC_BASE_URL=%q; $env:ANTHROPIC_API_KEY=%q", baseURL, token)
	}
	return fmt.Sprintf("export ANTHROPIC_BASE_URL=%s ANTHROPIC_API_KEY=%s", shellQuote(baseURL), shellQuote(token))
}

// shellQuote quotes s for a POSIX shell only when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

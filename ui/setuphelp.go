package ui

import (
	"encoding/json"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Snippet is one client's setup, ready to copy.
type Snippet struct {
	Client string
	// Note says where the text goes.
	Note string
	Text string
}

// Snippets are the setup texts for each client, with Ferry's base URL and
// local token filled in.
func Snippets(baseURL, token, goos string) []Snippet {
	settings, _ := json.MarshalIndent(map[string]any{
		"env": map[string]string{"ANTHROPIC_BASE_URL": baseURL, "ANTHROPIC_API_KEY": token},
	}, "", "  ")
	return []Snippet{
		{"Claude Code", lang.L("Shell: run it, or add it to your shell's start-up file."), ClaudeEnvironment(baseURL, token, goos)},
		{"Claude Code", lang.L("Or put this in ~/.claude/settings.json (merge with what is there)."), string(settings)},
		{lang.L("TypeScript SDK"), lang.L("@anthropic-ai/sdk"), fmt.Sprintf("import Anthropic from \"@anthropic-ai/sdk\";\n\nconst client = new Anthropic({\n  baseURL: %q,\n  apiKey: %q,\n});", baseURL, token)},
		{lang.L("Python SDK"), lang.L("anthropic (pip)"), fmt.Sprintf("import anthropic\n\nclient = anthropic.Anthropic(\n    base_url=%q,\n    api_key=%q,\n)", baseURL, token)},
		{lang.L("Go SDK"), lang.L("github.com/anthropics/anthropic-sdk-go"), fmt.Sprintf("client := anthropic.NewClient(\n\toption.WithBaseURL(%q),\n\toption.WithAPIKey(%q),\n)", baseURL, token)},
		{"Cline", lang.L("Settings > API Provider: Anthropic > tick \"Use custom base URL\"."), fmt.Sprintf("Base URL: %s\nAPI Key: %s", baseURL, token)},
		{"Continue", lang.L("config.yaml, under models:"), fmt.Sprintf("- name: Claude via Ferry\n  provider: anthropic\n  model: claude-sonnet-4-5\n  apiBase: %s/v1/\n  apiKey: %s", baseURL, token)},
		{"Cursor", lang.L("Settings > Models > Anthropic API Key, then Override base URL."), fmt.Sprintf("Base URL: %s\nAPI Key: %s", baseURL, token)},
	}
}

// TrapText is the problem and the fix for a trap, for the user.
func TrapText(t Trap) (problem, fix string) {
	where := t.Where
	if where == SessionEnvironment {
		where = lang.L("the session environment")
	}
	data := map[string]any{"Var": t.Var, "Value": t.Value, "Where": where}
	switch t.Kind {
	case TrapHTTPSProxy:
		return lang.L("{{.Var}}={{.Value}} is set in {{.Where}}.", data),
			lang.L("Claude Code then sends even 127.0.0.1 traffic to that proxy (NO_PROXY does not help). Remove it there and let Ferry reach the proxy instead: add it as a route in Settings > Routes.")
	case TrapSocksProxy:
		return lang.L("{{.Var}} holds a SOCKS URL ({{.Value}}) in {{.Where}}.", data),
			lang.L("Claude Code crashes with a socks URL in HTTPS_PROXY. Remove it there and add the SOCKS proxy as a route in Settings > Routes.")
	case TrapBaseURLElsewhere:
		return lang.L("ANTHROPIC_BASE_URL points to {{.Value}} in {{.Where}}, not to Ferry.", data),
			lang.L("Change it to Ferry's base URL (copy it above), or remove it if that file is not for Claude.")
	case TrapStaleToken:
		return lang.L("{{.Var}} in {{.Where}} holds an old Ferry token ({{.Value}}).", data),
			lang.L("The local token was regenerated since. Replace it with the current local token (Settings > Keys).")
	}
	return string(t.Kind), ""
}

// setupHelpPage shows the snippets and "Check my setup".
func (d *Desktop) setupHelpPage(w fyne.Window) fyne.CanvasObject {
	results := container.NewVBox()
	check := widget.NewButtonWithIcon(lang.L("Check my setup"), theme.SearchIcon(), func() {
		d.showSetupCheck(results)
	})
	check.Importance = widget.HighImportance
	items := []fyne.CanvasObject{
		container.NewHBox(check),
		results,
		widget.NewSeparator(),
	}
	for _, s := range Snippets(d.core.BaseURL(), d.core.LocalToken(), d.opts.GOOS) {
		text := s.Text
		head := widget.NewLabel(s.Client)
		head.TextStyle.Bold = true
		note := hint(s.Note)
		code := widget.NewLabel(text)
		code.TextStyle.Monospace = true
		code.Selectable = true
		code.Wrapping = fyne.TextWrapBreak
		copyBtn := widget.NewButtonWithIcon(lang.L("Copy"), theme.ContentCopyIcon(), func() {
			d.app.Clipboard().SetContent(text)
		})
		items = append(items, container.NewBorder(nil, nil, head, copyBtn, note), code)
	}
	return container.NewVScroll(container.NewVBox(items...))
}

// showSetupCheck runs CheckSetup and lists the traps in box.
func (d *Desktop) showSetupCheck(box *fyne.Container) {
	home := d.opts.Home
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	getenv := d.opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	traps := CheckSetup(SetupInput{Home: home, Getenv: getenv, BaseURL: d.core.BaseURL(), LocalToken: d.core.LocalToken()})
	var rows []fyne.CanvasObject
	if len(traps) == 0 {
		ok := widget.NewLabel(lang.L("No known traps found in your shell start-up files, ~/.claude/settings.json or the session environment."))
		ok.Wrapping = fyne.TextWrapWord
		ok.Importance = widget.SuccessImportance
		rows = append(rows, ok)
	}
	for _, t := range traps {
		problem, fix := TrapText(t)
		p := widget.NewLabel(problem)
		p.Wrapping = fyne.TextWrapWord
		p.Importance = widget.DangerImportance
		p.TextStyle.Bold = true
		f := widget.NewLabel(fix)
		f.Wrapping = fyne.TextWrapWord
		rows = append(rows, p, f)
	}
	box.Objects = rows
	box.Refresh()
}

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// copyRow is a read-only value with a Copy button.
func (d *Desktop) copyRow(label, value string) fyne.CanvasObject {
	v := widget.NewLabel(value)
	v.Selectable = true
	v.Wrapping = fyne.TextWrapBreak
	btn := widget.NewButtonWithIcon(lang.L("Copy"), theme.ContentCopyIcon(), func() {
		d.app.Clipboard().SetContent(value)
	})
	return container.NewBorder(nil, nil, widget.NewLabel(label), btn, v)
}

// welcomeContent is the first-run window: where to point clients, and the
// way to the settings.
func (d *Desktop) welcomeContent(close func()) fyne.CanvasObject {
	title := widget.NewLabel(lang.L("Welcome to Ferry"))
	title.TextStyle.Bold = true
	title.SizeName = theme.SizeNameHeadingText
	intro := widget.NewLabel(lang.L("Ferry is running. Point Claude Code, the Anthropic SDKs and your IDE plugins at this address, with the local token as their API key; Ferry forwards to Anthropic through the route you pick in the tray menu."))
	intro.Wrapping = fyne.TextWrapWord
	keyNote := widget.NewLabel(lang.L("Ferry holds no Anthropic API key yet: add yours in Settings > Keys, or let each client send its own."))
	keyNote.Wrapping = fyne.TextWrapWord
	keyNote.Hidden = d.core.APIKeyMasked() != ""
	settings := widget.NewButton(lang.L("Open settings"), func() {
		close()
		d.showSettings()
	})
	settings.Importance = widget.HighImportance
	return container.NewVBox(
		title, intro,
		d.copyRow(lang.L("Base URL"), d.core.BaseURL()),
		d.copyRow(lang.L("Local token"), d.core.LocalToken()),
		d.copyRow(lang.L("Claude Code"), d.claudeEnvironment()),
		keyNote,
		container.NewHBox(settings, widget.NewButton(lang.L("Close"), close)),
	)
}

// showWelcome opens the first-run window (also what the tray opens when
// it finds no clipboard tool: it has copy buttons of its own). Closing it
// destroys it; the last window closed ends the window process.
func (d *Desktop) showWelcome() {
	if d.welcomeWin == nil {
		w := d.app.NewWindow(lang.L("Welcome to Ferry"))
		closeShortcut(w)
		w.SetContent(d.welcomeContent(w.Close))
		w.Resize(fyne.NewSize(640, 360))
		w.SetOnClosed(func() {
			d.welcomeWin = nil
			d.closed()
		})
		d.welcomeWin = w
	}
	d.welcomeWin.Show()
	d.welcomeWin.RequestFocus()
}

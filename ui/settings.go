package ui

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// settingsPage is one page of the settings window. The window shows
// settingsPages in order; the next pages (cache, limits, filters, budgets)
// are one entry each.
type settingsPage struct {
	id    string
	title func() string
	build func(d *Desktop, w fyne.Window) fyne.CanvasObject
}

var settingsPages = []settingsPage{
	{"general", func() string { return lang.L("General") }, (*Desktop).generalPage},
	{"routes", func() string { return lang.L("Routes") }, (*Desktop).routesPage},
	{"network", func() string { return lang.L("Network") }, (*Desktop).networkPage},
	{"keys", func() string { return lang.L("Keys") }, (*Desktop).keysPage},
	{"prices", func() string { return lang.L("Prices") }, (*Desktop).pricesPage},
	{"spend", func() string { return lang.L("Budgets and limits") }, (*Desktop).spendPage},
	{"cache", func() string { return lang.L("Cache") }, (*Desktop).cachePage},
	{"filters", func() string { return lang.L("Filters") }, (*Desktop).filtersPage},
	{"data", func() string { return lang.L("Data") }, (*Desktop).dataPage},
	{"setup", func() string { return lang.L("Setup help") }, (*Desktop).setupHelpPage},
}

// settingsContent builds the settings window's tabs.
func (d *Desktop) settingsContent(w fyne.Window) *container.AppTabs {
	var items []*container.TabItem
	for _, p := range settingsPages {
		items = append(items, container.NewTabItem(p.title(), p.build(d, w)))
	}
	tabs := container.NewAppTabs(items...)
	tabs.SetTabLocation(container.TabLocationLeading)
	return tabs
}

// showSettings opens or raises the settings window, built afresh so the
// pages show current values. Main goroutine only.
func (d *Desktop) showSettings() { d.showSettingsPage("") }

// showSetupWindow opens the settings window on its setup help page.
func (d *Desktop) showSetupWindow() { d.showSettingsPage("setup") }

// showSettingsPage opens the settings window on the page with that key
// ("" keeps the first). Closing the window destroys it; the last window
// closed ends the window process.
func (d *Desktop) showSettingsPage(key string) {
	if d.settingsWin == nil {
		w := d.app.NewWindow(lang.L("Ferry settings"))
		closeShortcut(w)
		w.Resize(fyne.NewSize(820, 600))
		w.SetOnClosed(func() {
			d.settingsWin = nil
			d.settingsOpen.Store(false)
			d.live = nil
			d.closed()
		})
		d.settingsWin = w
	}
	d.live = nil // the pages built below register theirs
	tabs := d.settingsContent(d.settingsWin)
	d.settingsOpen.Store(true)
	for i, p := range settingsPages {
		if p.id == key {
			tabs.SelectIndex(i)
		}
	}
	d.settingsWin.SetContent(tabs)
	d.settingsWin.Show()
	d.settingsWin.RequestFocus()
}

// showError shows err in a dialog on w (or as a notification without w).
func (d *Desktop) showError(err error, w fyne.Window) {
	if err == nil {
		return
	}
	d.log.Error("settings", "err", err)
	if w == nil {
		d.report(err)
		return
	}
	dialog.ShowError(err, w)
}

// languageOptions are the language choices as shown, in the order of
// languageValues.
func languageOptions() []string {
	return []string{lang.L("System"), "中文", "English"}
}

var languageValues = []string{LanguageSystem, LanguageChinese, LanguageEnglish}

func (d *Desktop) generalPage(w fyne.Window) fyne.CanvasObject {
	st, err := d.core.Settings()
	if err != nil {
		return widget.NewLabel(err.Error())
	}
	listen := widget.NewEntry()
	listen.SetText(st.Listen)
	listenNote := hint(lang.L("Takes effect when Ferry next starts. Clients must use the new base URL."))
	saveListen := widget.NewButton(lang.L("Save"), func() {
		addr := strings.TrimSpace(listen.Text)
		if err := ValidateListen(addr); err != nil {
			d.showError(err, w)
			return
		}
		cur, err := d.core.Settings()
		if err != nil {
			d.showError(err, w)
			return
		}
		cur.Listen = addr
		d.showError(d.core.SetSettings(cur), w)
	})

	langSel := widget.NewSelect(languageOptions(), nil)
	if i := slices.Index(languageValues, st.Language); i >= 0 {
		langSel.SetSelectedIndex(i)
	} else {
		langSel.SetSelectedIndex(0)
	}
	restartNote := widget.NewLabel(lang.L("The new language is used after Ferry restarts."))
	restartNote.Wrapping = fyne.TextWrapWord
	restartNote.Hide()
	restartBtn := widget.NewButton(lang.L("Restart now"), func() {
		if d.opts.Restart != nil {
			d.opts.Restart()
		}
	})
	restartBtn.Hide()
	langSel.OnChanged = func(string) {
		cur, err := d.core.Settings()
		if err != nil {
			d.showError(err, w)
			return
		}
		v := languageValues[langSel.SelectedIndex()]
		if v == cur.Language {
			return
		}
		cur.Language = v
		if err := d.core.SetSettings(cur); err != nil {
			d.showError(err, w)
			return
		}
		// In the window process the core restarts the windows itself on
		// this change, in the new language: nothing to say or offer.
		if d.opts.Restart != nil {
			restartNote.Show()
			restartBtn.Show()
		}
	}

	login := widget.NewCheck(lang.L("Start Ferry when I log in"), nil)
	on, _ := d.opts.Autostart.Enabled()
	login.SetChecked(on)
	login.OnChanged = func(v bool) {
		if err := d.opts.Autostart.SetEnabled(v); err != nil {
			d.showError(err, w)
		}
		d.wake()
	}

	form := widget.NewForm(
		widget.NewFormItem(lang.L("Listen address"), container.NewBorder(nil, nil, nil, saveListen, listen)),
		widget.NewFormItem("", listenNote),
		widget.NewFormItem(lang.L("Language"), langSel),
		widget.NewFormItem("", container.NewVBox(restartNote, container.NewHBox(restartBtn))),
		widget.NewFormItem(lang.L("Start at login"), login),
	)
	return container.NewVScroll(form)
}

// ValidateListen checks a listen address: host:port with a numeric port.
func ValidateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %w", lang.L("listen address must be host:port, e.g. 127.0.0.1:7856"), err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s", lang.L("the port must be a number from 1 to 65535"))
	}
	if host == "" {
		return fmt.Errorf("%s", lang.L("listen address must be host:port, e.g. 127.0.0.1:7856"))
	}
	return nil
}

// ProbeText is a probe's timings for the user.
func ProbeText(p Probe) string {
	if !p.Up {
		return lang.L("Down: {{.Err}}", map[string]any{"Err": p.Err})
	}
	return lang.L("Up: connect {{.Connect}} · handshake {{.Handshake}} · TLS {{.TLS}} · total {{.Total}}", map[string]any{
		"Connect": FormatMS(p.Connect), "Handshake": FormatMS(p.Handshake), "TLS": FormatMS(p.TLS), "Total": FormatMS(p.Latency),
	})
}

func (d *Desktop) routesPage(w fyne.Window) fyne.CanvasObject {
	list := container.NewVBox()
	var rebuild func()
	rebuild = func() {
		var rows []fyne.CanvasObject
		for _, r := range d.core.Routes() {
			r := r
			name := widget.NewLabel(r.Name)
			name.TextStyle.Bold = true
			urlLabel := widget.NewLabel(r.URL)
			urlLabel.Truncation = fyne.TextTruncateEllipsis
			result := widget.NewLabel("")
			result.Wrapping = fyne.TextWrapWord
			if r.Checked {
				result.SetText(RouteLabel(r))
			}
			test := widget.NewButton(lang.L("Test"), nil)
			test.OnTapped = func() {
				test.Disable()
				result.SetText(lang.L("Testing…"))
				d.background(func() {
					ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
					defer cancel()
					p, err := d.core.TestRoute(ctx, r.Name)
					fyne.Do(func() {
						test.Enable()
						if err != nil {
							result.SetText(err.Error())
							return
						}
						result.SetText(ProbeText(p))
					})
				})
			}
			buttons := container.NewHBox(test)
			if !r.Via {
				buttons.Add(widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), func() {
					d.routeDialog(w, r.Name, r.URL, rebuild)
				}))
				buttons.Add(widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
					dialog.ShowConfirm(lang.L("Delete route"), lang.L("Delete the route {{.Name}}?", map[string]any{"Name": r.Name}), func(ok bool) {
						if ok {
							d.showError(d.core.RemoveRoute(r.Name), w)
							d.wake()
							rebuild()
						}
					}, w)
				}))
			} else {
				urlLabel.SetText(r.URL + " " + lang.L("(--via, this run only)"))
			}
			rows = append(rows, container.NewBorder(nil, nil, name, buttons, urlLabel), result, widget.NewSeparator())
		}
		if len(rows) == 0 {
			rows = append(rows, widget.NewLabel(lang.L("No routes yet.")))
		}
		list.Objects = rows
		list.Refresh()
	}
	rebuild()
	add := widget.NewButtonWithIcon(lang.L("Add route"), theme.ContentAddIcon(), func() { d.routeDialog(w, "", "", rebuild) })
	help := widget.NewLabel(lang.L("A route is how Ferry reaches Anthropic: direct, a SOCKS5 proxy (socks5://user:pass@host:1080) or an HTTP/HTTPS proxy (http://host:8080)."))
	help.Wrapping = fyne.TextWrapWord
	return container.NewBorder(container.NewVBox(help, container.NewHBox(add)), nil, nil, nil, container.NewVScroll(list))
}

// routeDialog adds (oldName "") or edits a route.
func (d *Desktop) routeDialog(w fyne.Window, oldName, maskedURL string, done func()) {
	name := widget.NewEntry()
	name.SetText(oldName)
	name.SetPlaceHolder(lang.L("Office SOCKS"))
	u := widget.NewEntry()
	u.SetPlaceHolder("socks5://127.0.0.1:1080")
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("Name"), name),
		widget.NewFormItem(lang.L("URL"), u),
	}
	title := lang.L("Add route")
	if oldName != "" {
		title = lang.L("Edit route")
		items = append(items, widget.NewFormItem("", widget.NewLabel(lang.L("Current: {{.URL}}. Leave the URL empty to keep it.", map[string]any{"URL": maskedURL}))))
	}
	dialog.ShowForm(title, lang.L("Save"), lang.L("Cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		n, raw := strings.TrimSpace(name.Text), strings.TrimSpace(u.Text)
		var err error
		switch {
		case n == "":
			err = ErrEmptyName
		case oldName == "":
			err = d.core.AddRoute(n, raw)
		default:
			err = d.core.UpdateRoute(oldName, n, raw)
		}
		d.showError(err, w)
		d.wake()
		done()
	}, w)
}

func (d *Desktop) keysPage(w fyne.Window) fyne.CanvasObject {
	masked := widget.NewLabel("")
	showKey := func() {
		if k := d.core.APIKeyMasked(); k != "" {
			masked.SetText(k)
		} else {
			masked.SetText(lang.L("No key stored: each client sends its own."))
		}
	}
	showKey()
	keyEntry := widget.NewPasswordEntry()
	keyEntry.SetPlaceHolder("sk-ant-…")
	saveKey := widget.NewButton(lang.L("Save key"), func() {
		k := strings.TrimSpace(keyEntry.Text)
		if k == "" {
			return
		}
		if err := d.core.SetAPIKey(k); err != nil {
			d.showError(err, w)
			return
		}
		keyEntry.SetText("")
		showKey()
	})
	clearKey := widget.NewButton(lang.L("Remove key"), func() {
		dialog.ShowConfirm(lang.L("Remove key"), lang.L("Forget the stored API key? Clients must then send their own."), func(ok bool) {
			if ok {
				d.showError(d.core.ClearAPIKey(), w)
				showKey()
			}
		}, w)
	})
	keyNote := hint(lang.L("Kept in the system keychain where there is one, otherwise in Ferry's database (readable by you only). It is never shown again in full."))

	tokenLabel := widget.NewLabel("")
	shown := false
	showToken := func() {
		if shown {
			tokenLabel.SetText(d.core.LocalToken())
		} else {
			tokenLabel.SetText(ShortToken(d.core.LocalToken()))
		}
	}
	showToken()
	toggle := widget.NewButton(lang.L("Show"), nil)
	toggle.OnTapped = func() {
		shown = !shown
		if shown {
			toggle.SetText(lang.L("Hide"))
		} else {
			toggle.SetText(lang.L("Show"))
		}
		showToken()
	}
	copyTok := widget.NewButtonWithIcon(lang.L("Copy"), theme.ContentCopyIcon(), func() {
		d.app.Clipboard().SetContent(d.core.LocalToken())
	})
	regen := widget.NewButton(lang.L("Regenerate"), func() {
		dialog.ShowConfirm(lang.L("Regenerate"), lang.L("Make a new local token? Clients using the old one get 401 until you update them."), func(ok bool) {
			if !ok {
				return
			}
			if _, err := d.core.RegenerateLocalToken(); err != nil {
				d.showError(err, w)
				return
			}
			showToken()
		}, w)
	})
	tokenNote := hint(lang.L("Clients send the local token as their API key; Ferry swaps in the real key."))

	form := widget.NewForm(
		widget.NewFormItem(lang.L("Anthropic API key"), masked),
		widget.NewFormItem("", container.NewBorder(nil, nil, nil, container.NewHBox(saveKey, clearKey), keyEntry)),
		widget.NewFormItem("", keyNote),
		widget.NewFormItem(lang.L("Local token"), tokenLabel),
		widget.NewFormItem("", container.NewHBox(toggle, copyTok, regen)),
		widget.NewFormItem("", tokenNote),
	)
	return container.NewVScroll(form)
}

// priceCells is one price row as shown.
func priceCells(p PriceRow) []string {
	f := func(v float64) string { return "$" + strconv.FormatFloat(v, 'f', -1, 64) }
	since := p.From
	if since == "" {
		since = "–"
	}
	return []string{p.Model, since, f(p.Input), f(p.CacheWrite5m), f(p.CacheWrite1h), f(p.CacheRead), f(p.Output)}
}

func (d *Desktop) pricesPage(w fyne.Window) fyne.CanvasObject {
	var rows []PriceRow
	headers := []string{lang.L("Model"), lang.L("Since"), lang.L("Input"), lang.L("Cache write 5 min"), lang.L("Cache write 1 h"), lang.L("Cache read"), lang.L("Output")}
	table := widget.NewTableWithHeaders(
		func() (int, int) { return len(rows), len(headers) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(rows) {
				o.(*widget.Label).SetText(priceCells(rows[id.Row])[id.Col])
			}
		})
	table.ShowHeaderColumn = false
	table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(headers[id.Col])
		}
	}
	for i, wd := range []float32{200, 100, 80, 130, 120, 90, 80} {
		table.SetColumnWidth(i, wd)
	}
	reload := func() {
		var err error
		rows, err = d.core.Prices()
		d.showError(err, w)
		table.Refresh()
	}
	reload()
	table.OnSelected = func(id widget.TableCellID) {
		table.UnselectAll()
		if id.Row >= 0 && id.Row < len(rows) {
			d.priceDialog(w, rows[id.Row], reload)
		}
	}
	add := widget.NewButtonWithIcon(lang.L("Add price"), theme.ContentAddIcon(), func() { d.priceDialog(w, PriceRow{}, reload) })
	reset := widget.NewButton(lang.L("Reset to defaults"), func() {
		dialog.ShowConfirm(lang.L("Reset to defaults"), lang.L("Replace the price table with Ferry's built-in prices? Your edits are lost."), func(ok bool) {
			if ok {
				d.showError(d.core.ResetPrices(), w)
				reload()
			}
		}, w)
	})
	note := widget.NewLabel(lang.L("US dollars per million tokens. Tap a row to edit it."))
	note.Importance = widget.LowImportance
	return container.NewBorder(container.NewVBox(note, container.NewHBox(add, reset)), nil, nil, nil, table)
}

// priceDialog edits p (a zero p adds a row).
func (d *Desktop) priceDialog(w fyne.Window, p PriceRow, done func()) {
	model := widget.NewEntry()
	model.SetText(p.Model)
	since := widget.NewEntry()
	since.SetText(p.From)
	since.SetPlaceHolder("2025-09-29")
	num := func(v float64) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(strconv.FormatFloat(v, 'f', -1, 64))
		return e
	}
	in, w5, w1, rd, out := num(p.Input), num(p.CacheWrite5m), num(p.CacheWrite1h), num(p.CacheRead), num(p.Output)
	items := []*widget.FormItem{
		widget.NewFormItem(lang.L("Model"), model),
		widget.NewFormItem(lang.L("Since"), since),
		widget.NewFormItem(lang.L("Input"), in),
		widget.NewFormItem(lang.L("Cache write 5 min"), w5),
		widget.NewFormItem(lang.L("Cache write 1 h"), w1),
		widget.NewFormItem(lang.L("Cache read"), rd),
		widget.NewFormItem(lang.L("Output"), out),
	}
	title := lang.L("Edit price")
	if p.Model == "" {
		title = lang.L("Add price")
	}
	dialog.ShowForm(title, lang.L("Save"), lang.L("Cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		row, err := ParsePriceRow(model.Text, since.Text, in.Text, w5.Text, w1.Text, rd.Text, out.Text)
		if err != nil {
			d.showError(err, w)
			return
		}
		d.showError(d.core.SetPrice(row), w)
		done()
	}, w)
}

// ParsePriceRow checks and converts the price form's fields.
func ParsePriceRow(model, since string, prices ...string) (PriceRow, error) {
	row := PriceRow{Model: strings.TrimSpace(model), From: strings.TrimSpace(since), Custom: true}
	if row.Model == "" {
		return row, fmt.Errorf("%s", lang.L("the model is empty"))
	}
	if row.From != "" {
		if _, err := time.Parse("2006-01-02", row.From); err != nil {
			return row, fmt.Errorf("%s: %w", lang.L("the date must look like 2025-09-29"), err)
		}
	}
	dst := []*float64{&row.Input, &row.CacheWrite5m, &row.CacheWrite1h, &row.CacheRead, &row.Output}
	for i, s := range prices {
		v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$")), 64)
		if err != nil || v < 0 {
			return row, fmt.Errorf("%s: %q", lang.L("a price must be a number of dollars, 0 or more"), s)
		}
		*dst[i] = v
	}
	return row, nil
}

func (d *Desktop) dataPage(w fyne.Window) fyne.CanvasObject {
	st, err := d.core.Settings()
	if err != nil {
		return widget.NewLabel(err.Error())
	}
	retention := widget.NewEntry()
	retention.SetText(strconv.Itoa(st.RetentionDays))
	bodies := widget.NewCheck(lang.L("Store prompt and response bodies"), nil)
	bodies.SetChecked(st.StoreBodies)
	save := widget.NewButton(lang.L("Save"), func() {
		days, err := strconv.Atoi(strings.TrimSpace(retention.Text))
		if err != nil || days < 0 {
			d.showError(fmt.Errorf("%s", lang.L("retention must be a whole number of days, 0 to keep everything")), w)
			return
		}
		cur, err := d.core.Settings()
		if err != nil {
			d.showError(err, w)
			return
		}
		cur.RetentionDays, cur.StoreBodies = days, bodies.Checked
		d.showError(d.core.SetSettings(cur), w)
	})
	export := widget.NewButtonWithIcon(lang.L("Export usage CSV…"), theme.DocumentSaveIcon(), func() {
		dlg := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil || wc == nil {
				d.showError(err, w)
				return
			}
			d.background(func() {
				ctx, cancel := context.WithTimeout(d.ctx, 5*time.Minute)
				defer cancel()
				err := d.core.ExportCSV(ctx, wc, time.Time{}, d.opts.Now().Add(time.Second))
				if cerr := wc.Close(); err == nil {
					err = cerr
				}
				fyne.Do(func() {
					if err != nil {
						d.showError(err, w)
						return
					}
					dialog.ShowInformation(lang.L("Export usage CSV…"), lang.L("Saved {{.Path}}", map[string]any{"Path": wc.URI().Path()}), w)
				})
			})
		}, w)
		dlg.SetFileName("ferry-usage-" + d.opts.Now().Format("2006-01-02") + ".csv")
		dlg.Show()
	})
	folder := widget.NewLabel(d.core.DataDir())
	folder.Selectable = true
	open := widget.NewButtonWithIcon(lang.L("Open data folder"), theme.FolderOpenIcon(), func() {
		u := storage.NewFileURI(d.core.DataDir())
		pu, err := url.Parse(u.String())
		if err != nil {
			d.showError(err, w)
			return
		}
		d.showError(d.app.OpenURL(pu), w)
	})
	note := hint(lang.L("Bodies can hold secrets and make the database large; they are off by default."))
	form := widget.NewForm(
		widget.NewFormItem(lang.L("Keep usage for (days, 0 = forever)"), retention),
		widget.NewFormItem("", bodies),
		widget.NewFormItem("", note),
		widget.NewFormItem("", container.NewHBox(save)),
		widget.NewFormItem(lang.L("Data folder"), folder),
		widget.NewFormItem("", container.NewHBox(open, export)),
	)
	return container.NewVScroll(form)
}

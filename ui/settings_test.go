package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// page builds one settings page in a test window.
func page(t *testing.T, d *Desktop, build func(*Desktop, fyne.Window) fyne.CanvasObject) (fyne.Window, fyne.CanvasObject) {
	t.Helper()
	w := test.NewWindow(nil)
	w.Resize(fyne.NewSize(800, 600))
	content := build(d, w)
	w.SetContent(content)
	t.Cleanup(w.Close)
	return w, content
}

// overlay is the topmost dialog on w.
func overlay(t *testing.T, w fyne.Window) fyne.CanvasObject {
	t.Helper()
	o := w.Canvas().Overlays().Top()
	if o == nil {
		t.Fatal("no dialog open")
	}
	return o
}

func lastCall(c *fakeCore) string {
	calls := c.Calls()
	if len(calls) == 0 {
		return ""
	}
	return calls[len(calls)-1]
}

func TestSettingsPagesAreData(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w := test.NewWindow(nil)
	defer w.Close()
	tabs := d.settingsContent(w)
	var got []string
	for _, it := range tabs.Items {
		got = append(got, it.Text)
	}
	want := []string{"General", "Routes", "Network", "Keys", "Prices", "Budgets and limits", "Cache", "Filters", "Data", "Setup help"}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %q, want %q", got, want)
	}
}

func TestGeneralPage(t *testing.T) {
	core := newFakeCore()
	restarted := false
	d, _ := startDesktop(t, core, Options{Restart: func() { restarted = true }})
	w, content := page(t, d, (*Desktop).generalPage)

	listen := find[*widget.Entry](content)[0]
	if listen.Text != "127.0.0.1:7856" {
		t.Fatalf("listen entry = %q", listen.Text)
	}
	listen.SetText("127.0.0.1:9000")
	findButton(t, content, "Save").OnTapped()
	if s, _ := core.Settings(); s.Listen != "127.0.0.1:9000" {
		t.Fatalf("listen not saved: %+v", s)
	}
	listen.SetText("no port")
	findButton(t, content, "Save").OnTapped()
	if s, _ := core.Settings(); s.Listen != "127.0.0.1:9000" {
		t.Fatalf("invalid listen saved: %+v", s)
	}
	if !hasText(overlay(t, w), "host:port") {
		t.Error("invalid address not explained")
	}

	sel := find[*widget.Select](content)[0]
	if !slices.Equal(sel.Options, []string{"System", "中文", "English"}) {
		t.Fatalf("language options = %q", sel.Options)
	}
	sel.SetSelected("中文")
	if s, _ := core.Settings(); s.Language != LanguageChinese {
		t.Fatalf("language not saved: %+v", s)
	}
	if !hasText(content, "after Ferry restarts") {
		t.Error("no restart note")
	}
	findButton(t, content, "Restart now").OnTapped()
	if !restarted {
		t.Error("Restart now did not call Options.Restart")
	}

	check := find[*widget.Check](content)[0]
	check.SetChecked(true)
	if on, _ := d.opts.Autostart.Enabled(); !on {
		t.Error("start at login not registered")
	}
}

func TestRoutesPage(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).routesPage)
	for _, want := range []string{"Office SOCKS", "socks5://alice:***@10.0.0.2:1080", "Direct · down"} {
		if !hasText(content, want) {
			t.Errorf("routes page lacks %q", want)
		}
	}
	if hasText(content, "alice:pw") {
		t.Error("route password shown")
	}
	findButton(t, content, "Test").OnTapped()
	if !hasText(content, "Up: connect 12 ms · handshake 30 ms · TLS 80 ms · total 122 ms") {
		t.Errorf("probe result not shown: %q", texts(content))
	}
	if lastCall(core) != "TestRoute Office SOCKS" {
		t.Errorf("calls = %q", core.Calls())
	}

	findButton(t, content, "Add route").OnTapped()
	dlg := overlay(t, w)
	entries := find[*widget.Entry](dlg)
	entries[0].SetText("Home HTTP")
	entries[1].SetText("http://192.168.1.2:8080")
	findButton(t, dlg, "Save").OnTapped()
	if got := lastCall(core); got != "AddRoute Home HTTP http://192.168.1.2:8080" {
		t.Fatalf("add route: %q", got)
	}
	if !hasText(content, "Home HTTP") {
		t.Error("new route not listed")
	}

	// Delete the second route (Direct) via its delete button.
	var icons []*widget.Button
	for _, b := range find[*widget.Button](content) {
		if b.Text == "" {
			icons = append(icons, b)
		}
	}
	if len(icons) != 6 { // edit + delete per route
		t.Fatalf("icon buttons = %d", len(icons))
	}
	icons[0].OnTapped() // edit Office SOCKS
	dlg = overlay(t, w)
	if !hasText(dlg, "Leave the URL empty to keep it") {
		t.Error("edit dialog does not say how to keep the URL")
	}
	find[*widget.Entry](dlg)[0].SetText("Office")
	findButton(t, dlg, "Save").OnTapped()
	if got := lastCall(core); got != "UpdateRoute Office SOCKS Office " {
		t.Fatalf("update route: %q", got)
	}
	icons = icons[:0]
	for _, b := range find[*widget.Button](content) {
		if b.Text == "" {
			icons = append(icons, b)
		}
	}
	icons[3].OnTapped() // delete Direct
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if got := lastCall(core); got != "RemoveRoute Direct" {
		t.Fatalf("remove route: %q", got)
	}
}

func TestKeysPage(t *testing.T) {
	core := newFakeCore()
	d, a := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).keysPage)
	all := strings.Join(texts(content), "\n")
	if strings.Contains(all, core.apiKey) || strings.Contains(all, core.token) {
		t.Fatal("a secret is shown in full")
	}
	if !hasText(content, "sk-ant-…a1b2") {
		t.Errorf("masked key missing: %q", texts(content))
	}
	pw := find[*widget.Entry](content)[0]
	if !pw.Password {
		t.Fatal("API key entry is not a password entry")
	}
	pw.SetText("sk-ant-api03-newkeynewkey-zz99")
	findButton(t, content, "Save key").OnTapped()
	if lastCall(core) != "SetAPIKey" || core.apiKey != "sk-ant-api03-newkeynewkey-zz99" {
		t.Fatalf("key not saved: %q", core.Calls())
	}
	if pw.Text != "" {
		t.Error("key left in the entry after saving")
	}
	if !hasText(content, "sk-ant-…zz99") {
		t.Error("new masked key not shown")
	}

	findButton(t, content, "Show").OnTapped()
	if !hasText(content, core.token) {
		t.Error("Show did not reveal the local token")
	}
	findButton(t, content, "Hide").OnTapped()
	findButton(t, content, "Copy").OnTapped()
	if a.Clipboard().Content() != core.LocalToken() {
		t.Error("Copy did not copy the token")
	}
	findButton(t, content, "Regenerate").OnTapped()
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if lastCall(core) != "RegenerateLocalToken" {
		t.Fatalf("calls = %q", core.Calls())
	}
	if !hasText(content, ShortToken(core.LocalToken())) {
		t.Error("new token not shown")
	}
	findButton(t, content, "Remove key").OnTapped()
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if lastCall(core) != "ClearAPIKey" || !hasText(content, "No key stored") {
		t.Fatalf("remove key: %q", core.Calls())
	}
}

func TestPricesPage(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	w, content := page(t, d, (*Desktop).pricesPage)
	if got := priceCells(core.prices[0]); !slices.Equal(got, []string{"claude-sonnet-4-5", "2025-09-29", "$3", "$3.75", "$6", "$0.3", "$15"}) {
		t.Errorf("cells = %q", got)
	}
	table := find[*widget.Table](content)[0]
	table.Select(widget.TableCellID{Row: 1, Col: 0})
	dlg := overlay(t, w)
	entries := find[*widget.Entry](dlg)
	if entries[0].Text != "claude-haiku-4-5" {
		t.Fatalf("edit dialog model = %q", entries[0].Text)
	}
	entries[2].SetText("1.5")
	findButton(t, dlg, "Save").OnTapped()
	if got := lastCall(core); got != "SetPrice claude-haiku-4-5  1.5/5" {
		t.Fatalf("set price: %q", got)
	}
	findButton(t, content, "Reset to defaults").OnTapped()
	findButton(t, overlay(t, w), "Yes").OnTapped()
	if lastCall(core) != "ResetPrices" {
		t.Fatalf("calls = %q", core.Calls())
	}
}

func TestParsePriceRow(t *testing.T) {
	if _, err := ParsePriceRow("", "", "1", "1", "1", "1", "1"); err == nil {
		t.Error("empty model accepted")
	}
	if _, err := ParsePriceRow("m", "2025/01/01", "1", "1", "1", "1", "1"); err == nil {
		t.Error("bad date accepted")
	}
	if _, err := ParsePriceRow("m", "", "-1", "1", "1", "1", "1"); err == nil {
		t.Error("negative price accepted")
	}
	r, err := ParsePriceRow(" m ", "2025-01-01", "$3", "3.75", "6", "0.3", "15")
	if err != nil || r.Model != "m" || r.Input != 3 || r.Output != 15 || !r.Custom {
		t.Fatalf("row = %+v, %v", r, err)
	}
}

func TestDataPage(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	_, content := page(t, d, (*Desktop).dataPage)
	if !hasText(content, "/tmp/ferry-data") {
		t.Error("data folder not shown")
	}
	find[*widget.Entry](content)[0].SetText("30")
	find[*widget.Check](content)[0].SetChecked(true)
	findButton(t, content, "Save").OnTapped()
	if s, _ := core.Settings(); s.RetentionDays != 30 || !s.StoreBodies || s.Listen != "127.0.0.1:7856" {
		t.Fatalf("settings = %+v", s)
	}
	findButton(t, content, "Export usage CSV…")
	findButton(t, content, "Open data folder")
}

func TestSetupHelpPage(t *testing.T) {
	core := newFakeCore()
	home := writeHome(t, map[string]string{".bashrc": "export HTTPS_PROXY=socks5://127.0.0.1:1080\n"})
	d, a := startDesktop(t, core, Options{Home: home, Getenv: func(string) string { return "" }, GOOS: "linux"})
	_, content := page(t, d, (*Desktop).setupHelpPage)
	for _, want := range []string{"Claude Code", "TypeScript SDK", "Python SDK", "Go SDK", "Cline", "Continue", "Cursor", `"ANTHROPIC_BASE_URL": "http://127.0.0.1:7856"`, "base_url=\"http://127.0.0.1:7856\""} {
		if !hasText(content, want) {
			t.Errorf("setup help lacks %q", want)
		}
	}
	var copies []*widget.Button
	for _, b := range find[*widget.Button](content) {
		if b.Text == "Copy" {
			copies = append(copies, b)
		}
	}
	if len(copies) != 8 {
		t.Fatalf("copy buttons = %d", len(copies))
	}
	copies[0].OnTapped()
	if got := a.Clipboard().Content(); got != ClaudeEnvironment(core.baseURL, core.token, "linux") {
		t.Errorf("clipboard = %q", got)
	}
	findButton(t, content, "Check my setup").OnTapped()
	if !hasText(content, "HTTPS_PROXY holds a SOCKS URL") || !hasText(content, "Claude Code crashes") {
		t.Errorf("trap not reported: %q", texts(content))
	}
}

func TestChineseLabels(t *testing.T) {
	if err := ApplyLanguage(LanguageChinese); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ApplyLanguage(LanguageEnglish); err != nil {
			t.Fatal(err)
		}
	})
	core := newFakeCore()
	core.settings.Language = LanguageChinese
	d, _ := startDesktop(t, core, Options{})
	w := test.NewWindow(nil)
	defer w.Close()
	var tabs []string
	for _, it := range d.settingsContent(w).Items {
		tabs = append(tabs, it.Text)
	}
	if !slices.Equal(tabs, []string{"通用", "线路", "网络", "密钥", "价格", "预算与限额", "缓存", "过滤", "数据", "配置帮助"}) {
		t.Errorf("zh-CN settings pages = %q", tabs)
	}
	d.showDashboard()
	for _, s := range []string{"概览", "成功率", "今日花费", "暂停 Ferry"} {
		if !hasText(d.dashWin.Content(), s) {
			t.Errorf("zh-CN dashboard lacks %q", s)
		}
	}
}

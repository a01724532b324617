package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
)

// TestScreensRender keeps an image of each screen (Fyne's test theme and
// fonts, so they are stable); a change in layout shows as a diff in
// testdata/failed/.
func TestScreensRender(t *testing.T) {
	core := newFakeCore()
	d, _ := startDesktop(t, core, Options{})
	d.showDashboard()
	d.dashWin.Resize(fyne.NewSize(960, 700))
	test.AssertRendersToImage(t, "dashboard_overview.png", d.dashWin.Canvas())
	tabs := find[*container.AppTabs](d.dashWin.Content())[0]
	tabs.SelectIndex(1)
	test.AssertRendersToImage(t, "dashboard_requests.png", d.dashWin.Canvas())
	tabs.SelectIndex(2)
	test.AssertRendersToImage(t, "dashboard_routes.png", d.dashWin.Canvas())

	d.showSettings()
	d.settingsWin.Resize(fyne.NewSize(820, 600))
	st := find[*container.AppTabs](d.settingsWin.Content())[0]
	for _, name := range []string{"general", "routes", "network", "keys", "prices", "spend", "cache", "filters", "data", "setup"} {
		st.SelectIndex(slices.IndexFunc(settingsPages, func(p settingsPage) bool { return p.id == name }))
		test.AssertRendersToImage(t, "settings_"+name+".png", d.settingsWin.Canvas())
	}
}

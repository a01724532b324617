package ui

import (
	"time"

	"fyne.io/fyne/v2/lang"
)

// RouteLabel is a route with its health, as the tray shows it too:
// "Office SOCKS · 182 ms", "Direct · down", "Home HTTP · untested".
func RouteLabel(r RouteStatus) string {
	switch {
	case !r.Checked:
		return lang.L("{{.Name}} · untested", map[string]any{"Name": r.Name})
	case !r.Up:
		return lang.L("{{.Name}} · down", map[string]any{"Name": r.Name})
	default:
		return lang.L("{{.Name}} · {{.MS}} ms", map[string]any{"Name": r.Name, "MS": r.Latency.Round(time.Millisecond).Milliseconds()})
	}
}

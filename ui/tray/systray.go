package tray

import (
	"sync"

	"fyne.io/systray"

	"github.com/ferry-gateway/ferry/assets"
)

// Systray shows the menu with fyne.io/systray: a StatusNotifierItem over
// D-Bus on Linux and the BSDs, the menu bar on macOS, the notification
// area on Windows. No GL, no window loop: idle, nothing runs.
//
// systray.Run must own the main goroutine (macOS needs the main thread);
// the Renderer methods are safe from any goroutine.
type Systray struct {
	goos   string
	titled sync.Once
}

// NewSystray returns the renderer; goos selects the icon set (macOS
// template images). Nothing reaches systray before its Run is ready.
func NewSystray(goos string) *Systray { return &Systray{goos: goos} }

// SetMenu replaces the whole menu. Removing the old items closes their
// click channels, which ends the goroutines that followed them.
func (s *Systray) SetMenu(items []Item) {
	systray.ResetMenu()
	s.add(items, nil)
}

func (s *Systray) add(items []Item, parent *systray.MenuItem) {
	for _, it := range items {
		if it.Separator {
			if parent == nil {
				systray.AddSeparator()
			} else {
				parent.AddSeparator()
			}
			continue
		}
		var mi *systray.MenuItem
		switch {
		case parent == nil && it.Checkable:
			mi = systray.AddMenuItemCheckbox(it.Label, "", it.Checked)
		case parent == nil:
			mi = systray.AddMenuItem(it.Label, "")
		case it.Checkable:
			mi = parent.AddSubMenuItemCheckbox(it.Label, "", it.Checked)
		default:
			mi = parent.AddSubMenuItem(it.Label, "")
		}
		if it.Disabled {
			mi.Disable()
		}
		if len(it.Children) > 0 {
			s.add(it.Children, mi)
		}
		if it.Do != nil {
			do := it.Do
			go func() {
				for range mi.ClickedCh {
					do()
				}
			}()
		}
	}
}

// SetIcon shows the state's icon: light ink (dark panels, the common
// Linux and Windows default) or, on macOS, the template image the menu
// bar tints itself.
func (s *Systray) SetIcon(st IconState) {
	if s.goos != "darwin" {
		// The item's name for panels that list items (the SNI Title);
		// on macOS a title would show beside the icon.
		s.titled.Do(func() { systray.SetTitle("Ferry") })
	}
	var png []byte
	switch st {
	case IconPaused:
		png = assets.TrayPausedDark
	case IconRouteDown, IconAlert:
		// The spend guard's attention shares the route-down artwork: the
		// ferry with an exclamation mark.
		png = assets.TrayDownDark
	default:
		png = assets.TrayRunningDark
	}
	if s.goos == "darwin" {
		var tmpl []byte
		switch st {
		case IconPaused:
			tmpl = assets.TrayPausedLight
		case IconRouteDown, IconAlert:
			tmpl = assets.TrayDownLight
		default:
			tmpl = assets.TrayRunningLight
		}
		systray.SetTemplateIcon(tmpl, png)
		return
	}
	systray.SetIcon(png)
}

// SetTooltip sets the icon's tooltip.
func (s *Systray) SetTooltip(text string) { systray.SetTooltip(text) }

package tray

// NoMenu is the Renderer where no tray host answers: the tray's logic
// still follows the core (its notifications and their buttons), with no
// menu to draw; the dashboard is the main window then.
type NoMenu struct{}

func (NoMenu) SetMenu([]Item)    {}
func (NoMenu) SetIcon(IconState) {}
func (NoMenu) SetTooltip(string) {}

package dbusmenu

import "errors"

var (
	// ErrNoItem: no StatusNotifierItem for the process appeared on the bus
	// before the context ended.
	ErrNoItem = errors.New("no StatusNotifierItem on the bus")
	// ErrNoLabel: no menu item has the label.
	ErrNoLabel = errors.New("no menu item with that label")
	// ErrNameTaken: another process owns the watcher name.
	ErrNameTaken = errors.New("org.kde.StatusNotifierWatcher is owned by another process")
)

package ui

import "errors"

// Sentinel errors returned by this package.
var (
	// ErrEmptyName is returned when a route is saved without a name.
	ErrEmptyName = errors.New("route name is empty")
)

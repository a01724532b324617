package autostart

import "errors"

// Sentinel errors returned by this package.
var (
	// ErrUnsupported is returned by start-at-login on a platform where
	// Ferry does not know how to register itself.
	ErrUnsupported = errors.New("start at login is not supported on this platform")
)

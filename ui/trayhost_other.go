//go:build !(linux || freebsd || openbsd || netbsd)

package ui

import "context"

// TrayHostAvailable is always true outside Linux and the BSDs: macOS and
// Windows always have a menu bar / notification area.
func TrayHostAvailable(ctx context.Context) bool { return true }

//go:build !(linux || freebsd || openbsd || netbsd)

package tray

import "context"

// HostAvailable is always true outside Linux and the BSDs: macOS and
// Windows always have a menu bar / notification area.
func HostAvailable(ctx context.Context) bool { return true }

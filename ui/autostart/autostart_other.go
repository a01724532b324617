//go:build !windows

package autostart

func newAutostart(goos, home, xdgConfig, exe string) (Autostart, error) {
	return newFileAutostart(goos, home, xdgConfig, exe)
}

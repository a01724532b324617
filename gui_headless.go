//go:build headless

package main

import "github.com/ferry-gateway/ferry/proxy/cli"

// The desktop is absent from headless builds: no tray, no windows, no
// Fyne, no cgo, no X or GL.
var (
	desktopRun cli.Desktop
	windowRun  cli.Window
)

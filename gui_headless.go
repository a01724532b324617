//go:build headless

package main

import "github.com/ferry-gateway/ferry/proxy/cli"

// desktop is absent from headless builds: no Fyne, no cgo, no X or GL.
var desktop cli.Desktop

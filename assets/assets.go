// Package assets holds Ferry's icons, drawn by the generator in gen/ and
// embedded here so the binary needs no files beside it.
//
// It knows nothing of Fyne: callers wrap the bytes in the resource type
// their toolkit wants.
package assets

//go:generate go run ./gen -dir .

import _ "embed"

// Icon is the application icon (512×512 PNG), also named in FyneApp.toml.
//
//go:embed icon.png
var Icon []byte

// Tray icons (64×64 PNG). "Light" variants are dark ink for light panels,
// "Dark" variants are light ink for dark panels.
var (
	//go:embed tray-running-light.png
	TrayRunningLight []byte
	//go:embed tray-running-dark.png
	TrayRunningDark []byte
	//go:embed tray-paused-light.png
	TrayPausedLight []byte
	//go:embed tray-paused-dark.png
	TrayPausedDark []byte
	//go:embed tray-down-light.png
	TrayDownLight []byte
	//go:embed tray-down-dark.png
	TrayDownDark []byte
)

// Template icons for the macOS menu bar: black on transparent SVG, tinted
// by the system.
var (
	//go:embed tray-running-template.svg
	TrayRunningTemplate []byte
	//go:embed tray-paused-template.svg
	TrayPausedTemplate []byte
	//go:embed tray-down-template.svg
	TrayDownTemplate []byte
)

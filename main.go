// Command ferry is a local gateway for the Claude API: `ferry` runs the tray
// app with the proxy, `ferry serve` the proxy alone. This file only wires.
package main

import (
	"os"

	"github.com/ferry-gateway/ferry/proxy/cli"
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "0.1.0"

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,
		Desktop: desktopRun, // nil in -tags headless builds
		Window:  windowRun,  // nil in -tags headless builds
	}))
}

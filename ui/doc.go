// Package ui is Ferry's windows: the dashboard, the settings (with setup
// help and the setup checker) and the welcome window, in English and
// Simplified Chinese. They run in the window process, `ferry window KIND`,
// which the core starts on demand (ui/desktop, ui/winproc); the tray lives
// in the core (ui/tray) and costs nothing while nobody looks at it.
//
// It owns what the user sees in a window and nothing else. It talks to the
// core only through the Core interface of ui/coreapi, which the window
// process implements over the admin API (ui/adminclient) and tests
// implement with a fake; it must not import proxy/..., storage internals
// or bbolt, with two exceptions that are plain values: storage.Record and
// proxy/events. The import-rule test in proxy/app checks this. It never
// creates the Fyne app either: main does, with app.NewWithID, and hands it
// to Run, so that this package builds and tests with Fyne's test driver and
// CGO_ENABLED=0.
//
// Threading: widget callbacks run on Fyne's main goroutine. The package's
// own goroutines (the event loop, background fetches) read from the core
// off the main goroutine and apply results with fyne.Do. The dashboard
// refreshes when the core's event stream says something happened, at most
// once a second; idle, nothing polls.
package ui

// Wiring (ui/desktop.RunWindow, in the window process):
//
//	hello, cmds, _ := winproc.Open(winproc.PipeFile())
//	core := adminclient.New(hello.Admin, hello.Token)
//	d, err := ui.Run(a, core, ui.Options{Show: "dashboard", Main: hello.Main})
//	// each command on the pipe: d.Show(kind); "quit" or end of file: d.Quit()
//	a.Run() // returns when the last window closed

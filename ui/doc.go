// Package ui is Ferry's desktop app: the tray menu, the dashboard, the
// settings and welcome windows, desktop notifications, start at login, the
// setup checker and the translations (English and Simplified Chinese).
//
// It owns what the user sees and nothing else. It talks to the proxy, the
// route manager and the usage store only through the Core interface defined
// in core.go, which main adapts from the real packages; it must not import
// proxy/..., storage internals or bbolt, with two exceptions that are plain
// values: storage.Record and proxy/events (the kinds of event the core
// publishes, which the event loop turns into notifications). The
// import-rule test in proxy/app checks this. It never creates the Fyne app
// either: main does,
// with app.NewWithID, and hands it to Run, so that this package builds and
// tests with Fyne's test driver and CGO_ENABLED=0.
//
// Threading: menu and widget callbacks run on Fyne's main goroutine. The
// package's own goroutines (the event loop and the dashboard refresher) read
// from the core off the main goroutine and apply results with fyne.Do.
package ui

// Wiring (main):
//
//	a := app.NewWithID("dev.ferry.app")
//	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
//	tray := ui.TrayHostAvailable(ctx)
//	cancel()
//	d, err := ui.Run(a, adapter, ui.Options{
//		FirstRun: firstRun, TrayAvailable: tray,
//		OnQuit:   app.Stop, // drain, flush, close the database
//		Restart:  relaunch,    // optional: re-exec after a language change
//		Logger:   log,
//	})
//	// a second launch asking to show the dashboard: d.ShowDashboard()
//	a.Run() // returns after d.Quit (tray "Quit Ferry") has shut the core down

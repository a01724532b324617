// Package cli is Ferry's command line: `ferry` (the tray app), `ferry serve`
// and the subcommands (token, key, usage, prices, routes). Every subcommand
// talks to Ferry's admin API under /_ferry/: to the running instance found
// through runtime.json, or, when nothing runs, to the same handlers opened
// in-process over the database. One code path either way.
//
// It knows nothing of the GUI: the desktop app is handed in by main as a
// function, nil in headless builds.
package cli

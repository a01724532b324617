// Package app assembles Ferry's core from its parts — storage, routes,
// the proxy handler, usage metering and the admin API — and runs it on the
// loopback port. It owns the order of start-up and shutdown: open the
// database, build the routes and the proxy, listen, write runtime.json; and
// on Stop, stop accepting, drain, stop the background loops, flush the usage
// queue, close the database.
//
// It knows nothing of the desktop UI: the UI reaches the core through the
// events bus and the accessors on Server.
//
// layout_test.go here holds the rules of the whole tree's layout, checked
// against `go list -deps` for the default and headless builds: which
// package may import what (as each doc.go says) and no non-test Go file
// over 600 lines.
package app

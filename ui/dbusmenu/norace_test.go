//go:build !race

package dbusmenu_test

const raceEnabled = false

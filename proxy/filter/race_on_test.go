//go:build race

package filter

// raceOn: the race detector makes the differential tests' thousands of
// rounds take minutes; under it they run a sample.
const raceOn = true

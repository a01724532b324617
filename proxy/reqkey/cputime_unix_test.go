//go:build unix

package reqkey

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process used so far (user + system): on a
// shared machine it measures the key's cost far more steadily than wall
// time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

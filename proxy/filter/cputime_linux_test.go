package filter

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time the calling OS thread used so far. With the
// goroutine locked to its thread, the difference around a call is that
// call's own cost: on a 2-core machine shared by many jobs, wall-clock
// percentiles measure the scheduler, not the filter. (getrusage's thread
// time moves in scheduler ticks; this clock is exact.)
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

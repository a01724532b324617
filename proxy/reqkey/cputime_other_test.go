//go:build !unix

package reqkey

import "time"

func cpuTime() time.Duration { return 0 }

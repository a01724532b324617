//go:build unix

package winproc

import (
	"os"
	"syscall"
)

func closeOnExec(f *os.File) { syscall.CloseOnExec(int(f.Fd())) }

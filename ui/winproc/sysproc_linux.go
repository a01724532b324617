package winproc

import "syscall"

// sysProcAttr has the kernel kill the window process when the core dies,
// even by SIGKILL (end of file on the pipe says the same, but a window
// process stuck in its GUI loop might not read it).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

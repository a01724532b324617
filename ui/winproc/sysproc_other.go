//go:build !linux

package winproc

import "syscall"

// sysProcAttr: no parent-death signal outside Linux; the window process
// ends at end of file on its pipe.
func sysProcAttr() *syscall.SysProcAttr { return nil }

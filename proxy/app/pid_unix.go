//go:build unix

package app

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processOurs says whether pid runs and belongs to this user: kill(pid, 0)
// answers ESRCH for a dead process and EPERM for another user's; as root
// (where kill always succeeds) /proc/PID/status names the real owner.
func processOurs(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false // ESRCH: gone; EPERM: another user's
	}
	uid, ok := procUID(pid)
	if !ok {
		return true // no /proc (macOS, BSD): kill's EPERM already spoke
	}
	return uid == os.Getuid()
}

// procUID reads the real uid of pid from /proc/PID/status.
func procUID(pid int) (int, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Uid:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return 0, false
			}
			uid, err := strconv.Atoi(fields[0])
			return uid, err == nil
		}
	}
	return 0, false
}

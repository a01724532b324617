//go:build unix

package secrets

import (
	"io/fs"
	"syscall"
)

// modesApply: Unix permission bits mean what they say.
const modesApply = true

func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

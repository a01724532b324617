//go:build !unix

package winproc

import "os"

// closeOnExec: Windows handles are not inherited unless asked for.
func closeOnExec(*os.File) {}

//go:build windows

package secrets

import "io/fs"

// On Windows, os.FileMode's permission bits are synthesised from the
// read-only attribute and say nothing about other users, and files have
// no Unix owner. Access is governed by ACLs: the default data dir is
// under %AppData%, whose ACL grants only the user, SYSTEM and
// Administrators. The symlink (reparse point) refusal still applies.
const modesApply = false

func ownerOf(fs.FileInfo) (int, bool) { return 0, false }

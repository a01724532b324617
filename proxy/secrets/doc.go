// Package secrets keeps Ferry's secrets on disk away from other local
// users and out of the database's free pages.
//
// It owns two things:
//
//   - The secrets file (secrets.json in the data dir, mode 0600): the
//     held API key when the OS has no keychain, the local token, the
//     admin token and the per-install keys other packages ask for by
//     name (Store.InstallKey("cache")). It is rewritten whole on every
//     change through a fresh temporary file, so a cleared value does not
//     linger the way it does in the free pages of a bbolt file (issue 14).
//
//   - The checks every private file and directory of Ferry passes:
//     CheckDir (the data dir: not a symlink, ours, narrowed to 0700 when
//     group- or world-writable), CheckFile (not a symlink, ours, 0600) and
//     WriteFile (an exclusive, randomly named temporary file, fsync,
//     rename), used for runtime.json too.
//
// On Windows there are no Unix owners and modes: the checks keep the
// symlink refusal and rely on the per-user ACL of the profile directory
// (%AppData%) the data dir lives in; see owner_windows.go.
//
// It must not know the database (storage) or the proxy: app wires it.
package secrets

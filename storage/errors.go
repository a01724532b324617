package storage

import "errors"

// Sentinel errors of package storage. Callers test them with errors.Is; the
// wrapped messages add the path or the value that was wrong.
var (
	// ErrLocked: another process (almost always another Ferry) holds the
	// database file's lock. Open gives up after Options.LockTimeout rather
	// than hanging, and its message says which file and how to find the holder.
	ErrLocked = errors.New("database locked by another process")

	// ErrSchemaTooNew: the file was written by a newer Ferry. Migrations only
	// go forward, so this Ferry refuses to touch it rather than guess.
	ErrSchemaTooNew = errors.New("database schema is newer than this Ferry understands")

	// ErrCorrupt: a stored value could not be decoded, or the layout is not
	// what the schema version promises.
	ErrCorrupt = errors.New("corrupt database value")

	// ErrBadRange: a query's time range or step makes no sense (to before
	// from, step not a whole number of minutes, too many points).
	ErrBadRange = errors.New("invalid time range")

	// ErrRecorderNotRunning: Flush was called while Recorder.Run was not running.
	ErrRecorderNotRunning = errors.New("recorder not running")
)

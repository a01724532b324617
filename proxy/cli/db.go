package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/storage"
)

// runDB is the database's maintenance: `ferry db compact` rewrites
// ferry.db with its live data only. bbolt keeps freed pages as they were,
// so values deleted or moved out (old secrets and route passwords, pruned
// records) stay in the file until it is rewritten (issue 14). It is
// offered, never done behind the user's back: it needs Ferry stopped.
func runDB(args []string, env Env) error {
	s := newSubcommand("ferry db", env)
	if err := s.parse(args); err != nil {
		return err
	}
	if len(s.args) != 1 || s.arg(0) != "compact" {
		return s.usage("ferry db compact   (with Ferry stopped)")
	}
	if _, err := app.ReadRuntime(s.dataDir); err == nil {
		return errors.New("Ferry is running on this data dir: stop it first, then run `ferry db compact`")
	}
	before, after, err := storage.Compact(filepath.Join(s.dataDir, app.DBFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "ferry.db compacted: %.1f MB → %.1f MB; deleted data no longer lingers in it.\n",
		float64(before)/1e6, float64(after)/1e6)
	return nil
}

package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/cache"
)

// runCache is `ferry cache stats|clear [--older-than D]`.
func runCache(args []string, env Env) error {
	s := newSubcommand("ferry cache", env)
	older := s.fs.String("older-than", "", "clear only answers stored longer ago than this, e.g. 30m, 24h, 7d")
	asJSON := s.fs.Bool("json", false, "stats as JSON")
	if err := s.parse(args); err != nil {
		return err
	}
	const line = "ferry cache stats [--json] | clear [--older-than D]"
	switch s.arg(0) {
	case "stats":
		return s.run(func(ctx context.Context, a *admin) error {
			if *asJSON {
				var raw []byte
				if err := a.do(ctx, http.MethodGet, "/_ferry/cache", nil, &raw); err != nil {
					return err
				}
				_, err := env.Stdout.Write(append(raw, '\n'))
				return err
			}
			var st cache.Stats
			if err := a.do(ctx, http.MethodGet, "/_ferry/cache", nil, &st); err != nil {
				return err
			}
			writeCacheStats(env, st)
			return nil
		})
	case "clear":
		q := ""
		if *older != "" {
			d, err := parseDays(*older)
			if err != nil || d <= 0 {
				return s.usage(line + "  (--older-than takes a duration such as 30m, 24h or 7d)")
			}
			q = "?" + url.Values{"older_than": {d.String()}}.Encode()
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var out cache.Cleared
			if err := a.do(ctx, http.MethodPost, "/_ferry/cache/clear"+q, nil, &out); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Cleared %d cached answers; %d left (%s), the file compacted to %s.\n",
				out.Cleared, out.Store.Entries, size(out.Store.Bytes), size(out.Store.FileBytes))
			return nil
		})
	}
	return s.usage(line)
}

func writeCacheStats(env Env, st cache.Stats) {
	state := "on"
	switch {
	case !st.Enabled:
		state = "off (cache.enabled is off)"
	case !st.On:
		state = "off: " + st.Off
	}
	fmt.Fprintf(env.Stdout, "Dedup cache: %s\n", state)
	fmt.Fprintf(env.Stdout, "Entries:     %d, %s of %s (file %s)\n", st.Store.Entries, size(st.Store.Bytes), size(st.Store.MaxBytes), size(st.Store.FileBytes))
	for _, p := range []struct {
		name string
		p    cache.Period
	}{{"Today", st.Today}, {"This month", st.Month}} {
		fmt.Fprintf(env.Stdout, "%-12s %.1f%% answered locally (%d hits, %d shared of %d requests), saved $%.4f and %d tokens\n",
			p.name+":", 100*p.p.HitRate, p.p.Hits, p.p.Coalesced, p.p.Requests, p.p.SavedUSD, p.p.SavedTokens)
	}
}

// parseDays is time.ParseDuration that also takes whole or decimal days.
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		f, err := strconv.ParseFloat(d, 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		return time.Duration(f * float64(24*time.Hour)), nil
	}
	return time.ParseDuration(s)
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

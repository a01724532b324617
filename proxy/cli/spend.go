package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferry-gateway/ferry/proxy/brake"
	"github.com/ferry-gateway/ferry/proxy/budget"
	"github.com/ferry-gateway/ferry/proxy/limit"
	"github.com/ferry-gateway/ferry/proxy/quota"
)

// runBudget is `ferry budget list | set NAME AMOUNT [--mode] [--basis] |
// clear NAME | allow DURATION`.
func runBudget(args []string, env Env) error {
	s := newSubcommand("ferry budget", env)
	mode := s.fs.String("mode", "hard", "soft (alerts only) or hard (new requests refused)")
	basis := s.fs.String("basis", "billed", "billed or api_equivalent (what the usage would cost with an API key)")
	if err := s.parse(args); err != nil {
		return err
	}
	const line = "ferry budget list | set NAME AMOUNT [--mode soft|hard] [--basis billed|api_equivalent] | clear NAME | allow DURATION\n" +
		"  NAME: daily, monthly (USD), requests_daily (requests), session (USD per Claude Code session), rate (USD per minute over 5 minutes)"
	switch {
	case s.arg(0) == "list" && len(s.args) == 1:
		return s.run(func(ctx context.Context, a *admin) error {
			var v budget.View
			if err := a.do(ctx, http.MethodGet, "/_ferry/budgets", nil, &v); err != nil {
				return err
			}
			return budget.WriteText(env.Stdout, v, time.Now())
		})
	case s.arg(0) == "set" && len(s.args) == 3:
		n, err := budget.ParseName(s.arg(1))
		if err != nil {
			return s.usage(line)
		}
		amount, err := strconv.ParseFloat(strings.TrimPrefix(s.arg(2), "$"), 64)
		if err != nil {
			fmt.Fprintf(env.Stderr, "ferry budget: amount %q is not a number\n", s.arg(2))
			return errUsage
		}
		b := budget.Budget{Name: n, Limit: amount, Mode: budget.Mode(*mode), Basis: budget.Basis(*basis)}
		if _, err := b.Normalize(); err != nil {
			fmt.Fprintln(env.Stderr, "ferry budget:", err)
			return errUsage
		}
		return s.say(http.MethodPut, "/_ferry/budgets", b,
			fmt.Sprintf("Budget %s set: %s, %s, %s.", n, n.Format(amount), b.Mode, b.Basis))
	case s.arg(0) == "clear" && len(s.args) == 2:
		n, err := budget.ParseName(s.arg(1))
		if err != nil {
			return s.usage(line)
		}
		return s.say(http.MethodDelete, "/_ferry/budgets?name="+url.QueryEscape(string(n)), nil, fmt.Sprintf("Budget %s cleared.", n))
	case s.arg(0) == "allow" && len(s.args) == 2:
		d, err := time.ParseDuration(s.arg(1))
		if err != nil || d <= 0 || d > budget.MaxAllow {
			fmt.Fprintf(env.Stderr, "ferry budget allow: %q: want a duration up to 24h, e.g. 1h\n", s.arg(1))
			return errUsage
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var v budget.View
			if err := a.do(ctx, http.MethodPost, "/_ferry/budgets/allow", budget.AllowRequest{Duration: d.String(), By: "cli"}, &v); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Hard budgets lifted until %s.\n", v.AllowUntil.Local().Format("15:04 MST"))
			return nil
		})
	}
	return s.usage(line)
}

// runLimits is `ferry limits list | set NAME VALUE`: the limit.* knobs and
// the queue.
func runLimits(args []string, env Env) error {
	s := newSubcommand("ferry limits", env)
	if err := s.parse(args); err != nil {
		return err
	}
	names := make([]string, len(limit.Keys))
	for i, k := range limit.Keys {
		names[i] = strings.TrimPrefix(k, "limit.")
	}
	line := "ferry limits list | set NAME VALUE\n  NAME: " + strings.Join(names, ", ")
	switch {
	case s.arg(0) == "list" && len(s.args) == 1:
		return s.run(func(ctx context.Context, a *admin) error {
			var v limit.View
			if err := a.do(ctx, http.MethodGet, "/_ferry/limits", nil, &v); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			off := func(n int64) string {
				if n == 0 {
					return "off"
				}
				return strconv.FormatInt(n, 10)
			}
			onOff := map[bool]string{true: "on", false: "off"}
			fmt.Fprintln(tw, "LIMIT\tVALUE")
			fmt.Fprintf(tw, "rpm\t%s\n", off(int64(v.RPM)))
			fmt.Fprintf(tw, "itpm\t%s\n", off(v.ITPM))
			fmt.Fprintf(tw, "otpm\t%s\n", off(v.OTPM))
			fmt.Fprintf(tw, "concurrency\t%s\n", off(int64(v.Concurrency)))
			fmt.Fprintf(tw, "queue_wait\t%v\n", time.Duration(v.QueueWaitSeconds)*time.Second)
			fmt.Fprintf(tw, "follow_upstream\t%s\n", onOff[v.FollowUpstream])
			if err := tw.Flush(); err != nil {
				return err
			}
			if v.FollowUpstream {
				fmt.Fprintf(env.Stdout, "\nNear Anthropic's limits, requests wait for the reset at most %v (retry.max_retry_after).\n",
					time.Duration(v.MaxWaitSeconds)*time.Second)
			}
			if v.Queue.Limit > 0 {
				fmt.Fprintf(env.Stdout, "\nQueue: %d of %d upstream, %d waiting.\n", v.Queue.InUse, v.Queue.Limit, v.Queue.Waiting)
			}
			return nil
		})
	case s.arg(0) == "set" && len(s.args) == 3:
		key := "limit." + strings.TrimPrefix(s.arg(1), "limit.")
		if !slices.Contains(limit.Keys, key) {
			return s.usage(line)
		}
		return s.run(func(ctx context.Context, a *admin) error {
			err := a.do(ctx, http.MethodPut, "/_ferry/config/"+key, map[string]string{"value": s.arg(2)}, nil)
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
				fmt.Fprintln(env.Stderr, "ferry limits:", ae.Message)
				return errUsage
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s set to %s.\n", key, s.arg(2))
			return nil
		})
	}
	return s.usage(line)
}

// runQuota is `ferry quota [--json]`: the subscription quota Ferry saw.
func runQuota(args []string, env Env) error {
	s := newSubcommand("ferry quota", env)
	asJSON := s.fs.Bool("json", false, "print GET /_ferry/quota's JSON")
	if err := s.parse(args); err != nil {
		return err
	}
	if len(s.args) != 0 {
		return s.usage("ferry quota [--json]")
	}
	return s.run(func(ctx context.Context, a *admin) error {
		var raw json.RawMessage
		if err := a.do(ctx, http.MethodGet, "/_ferry/quota", nil, &raw); err != nil {
			return err
		}
		if *asJSON {
			_, err := fmt.Fprintln(env.Stdout, string(raw))
			return err
		}
		var v quota.View
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("read quota: %w", err)
		}
		return quota.WriteText(env.Stdout, v, time.Now(), time.Local)
	})
}

// runBrake is `ferry brake list | release SESSION [DURATION]`.
func runBrake(args []string, env Env) error {
	s := newSubcommand("ferry brake", env)
	if err := s.parse(args); err != nil {
		return err
	}
	const line = "ferry brake list | release SESSION [DURATION (default 1h)]"
	switch {
	case s.arg(0) == "list" && len(s.args) == 1:
		return s.run(func(ctx context.Context, a *admin) error {
			var v brake.View
			if err := a.do(ctx, http.MethodGet, "/_ferry/brake", nil, &v); err != nil {
				return err
			}
			state := "on"
			if !v.Enabled {
				state = "off"
			}
			fmt.Fprintf(env.Stdout, "Runaway brake %s: %d repeats, window %v.\n", state, v.Repeats, time.Duration(v.WindowSeconds)*time.Second)
			if len(v.Stopped) == 0 {
				_, err := fmt.Fprintln(env.Stdout, "No session stopped.")
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SESSION\tSTOPPED\tREASON\tTOOL\tRELEASED UNTIL")
			for _, f := range v.Stopped {
				rel := "-"
				if !f.Released.IsZero() {
					rel = f.Released.Local().Format("15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Session, f.At.Local().Format("15:04:05"), f.Reason, f.Tool, rel)
			}
			return tw.Flush()
		})
	case s.arg(0) == "release" && (len(s.args) == 2 || len(s.args) == 3):
		rr := brake.ReleaseRequest{Session: s.arg(1), By: "cli"}
		if len(s.args) == 3 {
			if _, err := time.ParseDuration(s.arg(2)); err != nil {
				return s.usage(line)
			}
			rr.Duration = s.arg(2)
		}
		return s.say(http.MethodPost, "/_ferry/brake/release", rr, fmt.Sprintf("Brake released for session %s.", rr.Session))
	}
	return s.usage(line)
}

package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ferry-gateway/ferry/proxy/filter"
)

const filtersUsage = `ferry filters list
  ferry filters show NAME
  ferry filters add NAME ENTRY [--regex] [--action redact|block|flag] [--scope request|response|both] [--max-len N]
  ferry filters remove NAME N
  ferry filters import NAME FILE [--replace]      (FILE "-" reads stdin)
  ferry filters export NAME
  ferry filters enable|disable NAME [N]
  ferry filters mode NAME [--request redact|block|flag|off|entry] [--response …]
  ferry filters delete NAME
  ferry filters test [--answer]                   (reads the text from stdin)`

func runFilters(args []string, env Env) error {
	s := newSubcommand("ferry filters", env)
	regex := s.fs.Bool("regex", false, "add: the entry is an RE2 regex, not a keyword")
	action := s.fs.String("action", "", "add: redact, block or flag (default redact)")
	scope := s.fs.String("scope", "", "add: request, response or both (default request)")
	maxLen := s.fs.Int("max-len", 0, "add: the longest match in bytes (default 256)")
	replace := s.fs.Bool("replace", false, "import: drop the list's entries first")
	reqMode := s.fs.String("request", "", "mode: the list's action on requests")
	respMode := s.fs.String("response", "", "mode: the list's action on answers")
	asAnswer := s.fs.Bool("answer", false, "test: filter the text as an answer from the model")
	if err := s.parse(args); err != nil {
		return err
	}
	if len(s.args) == 0 {
		return s.usage(filtersUsage)
	}
	rest := s.args[1:]
	path := func(name string, more ...string) string {
		return "/_ferry/filters/" + url.PathEscape(name) + strings.Join(more, "")
	}
	switch s.arg(0) {
	case "list":
		return s.run(func(ctx context.Context, a *admin) error {
			var out struct {
				Lists   []filter.Summary `json:"lists"`
				Version string           `json:"version"`
			}
			if err := a.do(ctx, http.MethodGet, "/_ferry/filters", nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATE\tREQUESTS\tANSWERS\tENTRIES")
			for _, l := range out.Lists {
				state := "off"
				if l.Enabled {
					state = "on"
				}
				entries := strconv.Itoa(l.Entries)
				if l.Off > 0 {
					entries += fmt.Sprintf(" (%d off)", l.Off)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Name, state, modeText(l.RequestMode), modeText(l.ResponseMode), entries)
			}
			return tw.Flush()
		})
	case "show":
		if len(rest) != 1 {
			return s.usage("ferry filters show NAME")
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var l filter.List
			if err := a.do(ctx, http.MethodGet, path(rest[0]), nil, &l); err != nil {
				return err
			}
			printList(env.Stdout, l)
			return nil
		})
	case "add":
		if len(rest) != 2 {
			return s.usage("ferry filters add NAME ENTRY [--regex] [--action A] [--scope S] [--max-len N]")
		}
		e := filter.Entry{Pattern: rest[1], Regex: *regex, Action: filter.Action(*action), Scope: filter.Scope(*scope), MaxLen: *maxLen}
		return s.run(func(ctx context.Context, a *admin) error {
			var out struct{ Entry int }
			if err := a.do(ctx, http.MethodPost, path(rest[0], "/entries"), e, &out); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Added entry %d to %s.\n", out.Entry, rest[0])
			return nil
		})
	case "remove":
		if len(rest) != 2 {
			return s.usage("ferry filters remove NAME N")
		}
		return s.say(http.MethodDelete, path(rest[0], "/entries/", url.PathEscape(rest[1])), nil, fmt.Sprintf("Removed entry %s of %s.", rest[1], rest[0]))
	case "import":
		if len(rest) != 2 {
			return s.usage("ferry filters import NAME FILE [--replace]")
		}
		var text []byte
		var err error
		if rest[1] == "-" {
			text, err = io.ReadAll(io.LimitReader(env.Stdin, filter.MaxImport+1))
		} else {
			text, err = os.ReadFile(rest[1])
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", rest[1], err)
		}
		q := ""
		if *replace {
			q = "?replace=1"
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var out struct{ Imported, Entries int }
			if err := a.do(ctx, http.MethodPut, path(rest[0], "/import", q), string(text), &out); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Imported %d entries into %s (%d in all).\n", out.Imported, rest[0], out.Entries)
			return nil
		})
	case "export":
		if len(rest) != 1 {
			return s.usage("ferry filters export NAME")
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var raw []byte
			if err := a.do(ctx, http.MethodGet, path(rest[0], "/export"), nil, &raw); err != nil {
				return err
			}
			_, err := env.Stdout.Write(raw)
			return err
		})
	case "enable", "disable":
		if len(rest) < 1 || len(rest) > 2 {
			return s.usage("ferry filters enable|disable NAME [N]")
		}
		q, what := "", "List "+rest[0]
		if len(rest) == 2 {
			q, what = "?entry="+url.QueryEscape(rest[1]), fmt.Sprintf("Entry %s of %s", rest[1], rest[0])
		}
		state := "on"
		if s.arg(0) == "disable" {
			state = "off"
		}
		return s.say(http.MethodPost, path(rest[0], "/", s.arg(0), q), nil, what+" is "+state+".")
	case "mode":
		if len(rest) != 1 || *reqMode == "" && *respMode == "" {
			return s.usage("ferry filters mode NAME [--request redact|block|flag|off|entry] [--response redact|block|flag|off|entry]")
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var l filter.List
			body := map[string]string{"request": *reqMode, "response": *respMode}
			if err := a.do(ctx, http.MethodPost, path(rest[0], "/mode"), body, &l); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s: requests %s, answers %s.\n", l.Name, modeText(l.RequestMode), modeText(l.ResponseMode))
			return nil
		})
	case "delete":
		if len(rest) != 1 {
			return s.usage("ferry filters delete NAME")
		}
		return s.say(http.MethodDelete, path(rest[0]), nil, fmt.Sprintf("Deleted list %s.", rest[0]))
	case "test":
		// The text is usually a real secret: it comes on stdin, never
		// on the command line (shell history, ps).
		text, err := io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		q := ""
		if *asAnswer {
			q = "?side=response"
		}
		return s.run(func(ctx context.Context, a *admin) error {
			var out filter.TestResult
			if err := a.do(ctx, http.MethodPost, "/_ferry/filters/test"+q, string(text), &out); err != nil {
				return err
			}
			fmt.Fprint(env.Stdout, out.Text)
			if !strings.HasSuffix(out.Text, "\n") {
				fmt.Fprintln(env.Stdout)
			}
			for _, h := range out.Hits {
				fmt.Fprintf(env.Stderr, "%s entry %d (%s): %s ×%d\n", h.List, h.Entry, h.Rule, h.Action, h.Count)
			}
			if out.Blocked != "" {
				fmt.Fprintln(env.Stderr, out.Blocked)
			}
			return nil
		})
	}
	return s.usage(filtersUsage)
}

func modeText(a filter.Action) string {
	if a == "" {
		return "per entry"
	}
	return string(a)
}

func printList(w io.Writer, l filter.List) {
	state := "off"
	if l.Enabled {
		state = "on"
	}
	fmt.Fprintf(w, "%s (%s): requests %s, answers %s\n", l.Name, state, modeText(l.RequestMode), modeText(l.ResponseMode))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tRULE\tKIND\tACTION\tSCOPE\tSTATE\tPATTERN")
	for i, e := range l.Entries {
		kind, st := "keyword", "on"
		if e.Regex {
			kind = "regex"
		}
		if e.Disabled {
			st = "off"
		}
		name := e.Name
		if name == "" {
			name = fmt.Sprintf("%s-%d", l.Name, i+1)
		}
		act, sc := string(e.Action), string(e.Scope)
		if act == "" {
			act = "redact"
		}
		if sc == "" {
			sc = "request"
		}
		pat := e.Pattern
		if r := []rune(pat); len(r) > 60 {
			pat = string(r[:57]) + "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, name, kind, act, sc, st, pat)
	}
	tw.Flush()
}

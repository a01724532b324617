package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/text/width"

	"github.com/ferry-gateway/ferry/assets/i18n"
	"github.com/ferry-gateway/ferry/proxy/app"
)

// runConfig is `ferry config`: the settings registry through the admin API
// (/_ferry/config) of the running Ferry, or of handlers over the database
// when none runs.
func runConfig(args []string, env Env) error {
	s := newSubcommand("ferry config", env)
	if err := s.parse(args); err != nil {
		return err
	}
	const line = "ferry config list | get KEY | set KEY VALUE | reset KEY"
	want := map[string]int{"list": 1, "get": 2, "set": 3, "reset": 2}
	if n, ok := want[s.arg(0)]; !ok || len(s.args) != n {
		return s.usage(line)
	}
	return s.run(func(ctx context.Context, a *admin) error {
		a.lang = configLang(ctx, a, env)
		err := configCommand(ctx, a, env.Stdout, s.args)
		var ae *apiError
		if errors.As(err, &ae) && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusNotFound) {
			// An unknown key or a value the knob does not take: one line
			// naming what is allowed, exit 2, nothing stored.
			fmt.Fprintln(env.Stderr, "ferry config:", ae.Message)
			return errUsage
		}
		return err
	})
}

// configLang is the language of the answer: the stored ui.language, else
// the session's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG).
func configLang(ctx context.Context, a *admin, env Env) string {
	var e app.ConfigEntry
	choice := i18n.System
	if a.do(ctx, http.MethodGet, "/_ferry/config/"+app.KeyLanguage, nil, &e) == nil {
		choice = e.Value
	}
	return i18n.ResolveEnv(choice, env.Getenv)
}

func configCommand(ctx context.Context, a *admin, w io.Writer, args []string) error {
	lang := a.lang
	path := "/_ferry/config/"
	if len(args) > 1 {
		path += url.PathEscape(args[1])
	}
	switch args[0] {
	case "list":
		var entries []app.ConfigEntry
		if err := a.do(ctx, http.MethodGet, "/_ferry/config", nil, &entries); err != nil {
			return err
		}
		printConfig(w, entries, lang)
		return nil
	case "get":
		var e app.ConfigEntry
		if err := a.do(ctx, http.MethodGet, path, nil, &e); err != nil {
			return err
		}
		fmt.Fprintln(w, e.Value)
		return nil
	case "set", "reset":
		var e app.ConfigEntry
		var err error
		if args[0] == "set" {
			err = a.do(ctx, http.MethodPut, path, map[string]string{"value": args[2]}, &e)
		} else {
			err = a.do(ctx, http.MethodDelete, path, nil, &e)
		}
		if err != nil {
			return err
		}
		stored := e.Default
		if e.Stored != nil {
			stored = *e.Stored
		}
		data := map[string]any{"Key": e.Key, "Value": stored, "When": appliesText(lang, e.Applies)}
		if args[0] == "set" {
			fmt.Fprintln(w, i18n.Tf(lang, "{{.Key}} = {{.Value}}: {{.When}}.", data))
		} else {
			fmt.Fprintln(w, i18n.Tf(lang, "{{.Key}} reset to its default, {{.Value}}: {{.When}}.", data))
		}
		if e.Override != nil {
			fmt.Fprintln(w, i18n.Tf(lang, "This run keeps {{.Value}} from {{.From}}.", map[string]any{"Value": e.Override.Value, "From": e.Override.From}))
		}
		return nil
	}
	return fmt.Errorf("ferry config %s: unknown action", args[0])
}

// appliesText says when a change takes effect, as a clause.
func appliesText(lang, applies string) string {
	switch applies {
	case "now":
		return i18n.T(lang, "applies now")
	case "next start":
		return i18n.T(lang, "applies at Ferry's next start")
	case "window restart":
		return i18n.T(lang, "applies when the windows restart")
	}
	return applies
}

func printConfig(w io.Writer, entries []app.ConfigEntry, lang string) {
	rows := [][]string{{i18n.T(lang, "KEY"), i18n.T(lang, "VALUE"), i18n.T(lang, "DEFAULT"),
		i18n.T(lang, "APPLIES"), i18n.T(lang, "HELP")}}
	for _, e := range entries {
		rows = append(rows, []string{e.Key, valueText(e, lang), e.Default, i18n.T(lang, e.Applies), e.Help})
	}
	printColumns(w, rows)
}

// printColumns aligns rows in columns two spaces apart, counting a Chinese
// character as two columns as a terminal draws it (text/tabwriter counts
// runes, which misaligns every Chinese column).
func printColumns(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// valueText is the value column: the value in effect, and where it comes
// from when that is not the stored value: "30d (flag --retention; stored 90d)".
func valueText(e app.ConfigEntry, lang string) string {
	v := e.Value
	switch {
	case e.Override != nil && e.Stored != nil:
		v += " " + i18n.Tf(lang, "({{.From}}; stored {{.Stored}})", map[string]any{"From": e.Override.From, "Stored": *e.Stored})
	case e.Override != nil:
		v += " (" + e.Override.From + ")"
	case e.Ignored != "":
		v += " " + i18n.Tf(lang, "(stored {{.Stored}} ignored: not allowed)", map[string]any{"Stored": fmt.Sprintf("%q", e.Ignored)})
	}
	return v
}

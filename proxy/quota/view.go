package quota

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/reply"
)

// Stage reads the quota of every response that went upstream. It sits in
// PhaseRateLimit, after the cache: a cached answer's headers are old.
func (t *Tracker) Stage() proxy.Stage {
	return proxy.Stage{Phase: proxy.PhaseRateLimit, Name: "quota", Run: func(_ context.Context, out *proxy.Outgoing) (*proxy.Response, error) {
		out.OnResponse(proxy.RespFilter, func(res *proxy.Response) error {
			if res.Upstream != nil && has(res.Header) {
				t.Observe(res.Header, "")
			}
			return nil
		})
		return nil, nil
	}}
}

// View is what GET /_ferry/quota answers.
type View struct {
	Accounts []Account `json:"accounts"`
	// Line is the tray's status line for the most recent account, e.g.
	// "5h 42% · resets 16:20 · week 63%"; "" when no quota was seen.
	Line string `json:"line"`
}

// View returns every account's quota and the tray line, times in loc.
func (t *Tracker) View(loc *time.Location) View {
	v := View{Accounts: t.Accounts()}
	if len(v.Accounts) > 0 {
		v.Line = Line(v.Accounts[0], loc)
	}
	return v
}

// Line is the tray's status line for an account: "5h 42% · resets 16:20 ·
// week 63%".
func Line(a Account, loc *time.Location) string {
	var parts []string
	if w, ok := a.Window("5h"); ok {
		parts = append(parts, fmt.Sprintf("5h %d%%", pct(w.Utilization)))
		if !w.Reset.IsZero() {
			parts = append(parts, "resets "+w.Reset.In(loc).Format("15:04"))
		}
	}
	if w, ok := a.Window("7d"); ok {
		parts = append(parts, fmt.Sprintf("week %d%%", pct(w.Utilization)))
	}
	return strings.Join(parts, " · ")
}

func pct(u float64) int { return int(u*100 + 0.5) }

// Register mounts GET /_ferry/quota.
func (t *Tracker) Register(mount func(pattern string, handler http.Handler, mutating bool)) {
	mount("GET /_ferry/quota", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reply.JSON(w, t.View(time.Local))
	}), false)
}

// WriteText prints a View for `ferry quota`: each account, each window
// with its utilisation and reset countdown.
func WriteText(w io.Writer, v View, now time.Time, loc *time.Location) error {
	if len(v.Accounts) == 0 {
		_, err := fmt.Fprintln(w, "No subscription quota seen yet: it is read from the responses to Claude Code logged in with a Pro or Max plan.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, a := range v.Accounts {
		fmt.Fprintf(tw, "Account %s", a.Account)
		if a.Status != "" {
			fmt.Fprintf(tw, " (%s", a.Status)
			if a.RepresentativeClaim != "" {
				fmt.Fprintf(tw, ", limited by %s", a.RepresentativeClaim)
			}
			fmt.Fprint(tw, ")")
		}
		fmt.Fprintf(tw, ", seen %s ago\n", now.Sub(a.Seen).Round(time.Second))
		fmt.Fprintln(tw, "WINDOW\tUSED\tRESETS\tIN\tSTATUS")
		for _, win := range a.Windows {
			resets, in := "-", "-"
			if !win.Reset.IsZero() {
				resets = win.Reset.In(loc).Format("Mon 15:04")
				in = max(win.Reset.Sub(now), 0).Round(time.Minute).String()
			}
			fmt.Fprintf(tw, "%s\t%d%%\t%s\t%s\t%s\n", win.Name, pct(win.Utilization), resets, in, win.Status)
		}
		if a.OverageStatus != "" {
			fmt.Fprintf(tw, "overage\t%s\n", a.OverageStatus)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write quota: %w", err)
	}
	return nil
}

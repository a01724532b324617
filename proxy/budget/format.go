package budget

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// WriteText prints a View for `ferry budget list`: each budget with what
// is spent of it, its mode and basis, and when it resets.
func WriteText(w io.Writer, v View, now time.Time) error {
	loc, err := time.LoadLocation(v.Timezone)
	if err != nil {
		loc = time.Local
	}
	fmt.Fprintf(w, "Today (%s): %s billed%s, %s at API prices, %d requests.\n", v.Timezone,
		dollars(v.Today.Billed), inDisplay(v.Display, v.Today.Billed), dollars(v.Today.Equiv), v.Today.Requests)
	if !v.AllowUntil.IsZero() && v.AllowUntil.After(now) {
		fmt.Fprintf(w, "Hard budgets are lifted until %s.\n", v.AllowUntil.In(loc).Format("15:04 MST"))
	}
	if len(v.Budgets) == 0 {
		_, err := fmt.Fprintln(w, "No budgets set. Set one with: ferry budget set daily 20 [--mode soft|hard] [--basis billed|api_equivalent]")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BUDGET\tSPENT\tLIMIT\tUSED\tMODE\tBASIS\tRESETS")
	for _, b := range v.Budgets {
		spent := b.Name.Format(b.Spent)
		if b.Name == Session {
			spent = "per session"
		}
		resets := "-"
		switch {
		case !b.Resets.IsZero():
			resets = b.Resets.In(loc).Format("2006-01-02 15:04")
		case b.Name == Rate:
			resets = "last 5 min"
		case b.Name == Session:
			resets = "never"
		}
		used := strconv.Itoa(int(b.Fraction*100+0.5)) + "%"
		if b.Name == Session {
			used = "-"
		}
		if b.Refusing {
			used += " REFUSING"
		}
		limit := b.Name.Format(b.Limit)
		if b.Name.money() {
			limit += inDisplay(v.Display, b.Limit)
			if b.Name != Session {
				spent += inDisplay(v.Display, b.Spent)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Name, spent, limit, used, b.Mode, b.Basis, resets)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write budgets: %w", err)
	}
	return nil
}

// inDisplay is " (CNY 88.85)" when a display currency is set, else "".
func inDisplay(d Display, usd float64) string {
	if a := d.Amount(usd); a != "" {
		return " (" + a + ")"
	}
	return ""
}

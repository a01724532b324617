package usage

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteUsageTable prints a usage report as an aligned terminal table with
// a total line. Requests whose model has no price are counted beside the
// cost, never folded into it as $0.
func WriteUsageTable(w io.Writer, rep UsageReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	key := strings.ToUpper(rep.By)
	if key == "" {
		key = "KEY"
	}
	fmt.Fprintf(tw, "%s\tREQUESTS\tERRORS\tINPUT\tOUTPUT\tCACHE WRITE 5M\tCACHE WRITE 1H\tCACHE READ\tCOST USD\n", key)
	line := func(r UsageRow) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", TerminalCell(r.Key),
			group(int64(r.Requests)), group(int64(r.Errors)), group(r.Tokens.Input), group(r.Tokens.Output),
			group(r.Tokens.CacheWrite5m), group(r.Tokens.CacheWrite1h), group(r.Tokens.CacheRead), costCell(r))
	}
	for _, r := range rep.Rows {
		line(r)
	}
	if len(rep.Rows) == 0 {
		fmt.Fprintf(tw, "(no requests)\t\t\t\t\t\t\t\t\n")
	}
	total := rep.Total
	total.Key = "TOTAL"
	line(total)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write usage table: %w", err)
	}
	return nil
}

func costCell(r UsageRow) string {
	if r.CostUSD == 0 && r.UnknownPrice > 0 {
		return fmt.Sprintf("unknown (%d unpriced)", r.UnknownPrice)
	}
	s := "$" + strconv.FormatFloat(r.CostUSD, 'f', 4, 64)
	if r.UnknownPrice > 0 {
		s += fmt.Sprintf(" + %d unpriced", r.UnknownPrice)
	}
	return s
}

// group writes n with thousands separators: 1234567 → 1,234,567.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// WriteUsageCSV writes a usage report as CSV with a header line, full
// precision and no total line (spreadsheets sum by themselves).
func WriteUsageCSV(w io.Writer, rep UsageReport) error {
	cw := csv.NewWriter(w)
	by := rep.By
	if by == "" {
		by = "key"
	}
	cw.Write([]string{by, "requests", "errors", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "cost_usd", "unknown_price"})
	for _, r := range rep.Rows {
		cw.Write([]string{CSVCell(r.Key), strconv.FormatUint(r.Requests, 10), strconv.FormatUint(r.Errors, 10),
			strconv.FormatInt(r.Tokens.Input, 10), strconv.FormatInt(r.Tokens.Output, 10),
			strconv.FormatInt(r.Tokens.CacheWrite5m, 10), strconv.FormatInt(r.Tokens.CacheWrite1h, 10),
			strconv.FormatInt(r.Tokens.CacheRead, 10), usd(r.CostUSD),
			strconv.FormatUint(r.UnknownPrice, 10)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write usage csv: %w", err)
	}
	return nil
}

// usd writes a cost without float noise (0.04282, not
// 0.042820000000000004): sums of prices are exact to far below 1e-10 $.
func usd(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e10)/1e10, 'f', -1, 64)
}

// WriteUsageJSON writes a usage report as indented JSON, as /_ferry/usage
// serves it.
func WriteUsageJSON(w io.Writer, rep UsageReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write usage json: %w", err)
	}
	return nil
}

// WritePricesTable prints a price table (Prices.Table, or GET
// /_ferry/prices decoded) in USD per million tokens, rows the user changed
// marked with *, then the tiers, multipliers and batch factor.
func WritePricesTable(w io.Writer, t PriceTable) error {
	custom := map[string]bool{}
	for _, k := range t.Custom {
		custom[k] = true
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "MODEL\tFROM\tINPUT\tCACHE WRITE 5M\tCACHE WRITE 1H\tCACHE READ\tOUTPUT\n")
	price := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	rates := func(name, from string, r Rates) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, from, price(r.Input), price(r.CacheWrite5m),
			price(r.CacheWrite1h), price(r.CacheRead), price(r.Output))
	}
	for _, r := range t.Rows {
		name := TerminalCell(r.Model)
		if custom[r.Key()] {
			name += " *"
		}
		from := r.From
		if from == "" {
			from = "-"
		}
		rates(name, from, r.Rates)
		for _, tier := range r.Tiers {
			rates(fmt.Sprintf("  prompt > %s", group(tier.AbovePromptTokens)), "", tier.Rates)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write prices table: %w", err)
	}
	fmt.Fprintf(w, "\nUSD per million tokens. Batches: ×%s.", price(t.BatchFactor))
	if len(t.Multipliers) == 0 {
		fmt.Fprintf(w, " Multipliers: none.\n")
	} else {
		fmt.Fprintf(w, "\nMultipliers:\n")
		for _, m := range t.Multipliers {
			models := "all models"
			if len(m.Models) > 0 {
				models = strings.Join(m.Models, ", ")
			}
			fmt.Fprintf(w, "  %s=%s ×%s", m.Field, m.Value, price(m.Factor))
			for _, t := range m.Tiers {
				fmt.Fprintf(w, ", ×%s for prompts > %s", price(t.Factor), group(t.AbovePromptTokens))
			}
			fmt.Fprintf(w, " (%s)\n", models)
		}
	}
	if len(custom) > 0 {
		if _, err := fmt.Fprintf(w, "* changed from Ferry's defaults.\n"); err != nil {
			return fmt.Errorf("write prices table: %w", err)
		}
	}
	return nil
}

package ui

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/storage"
)

// The dashboard's data shaping: pure functions of what the core returned,
// which the tests call without widgets (dashboard.go only shows their
// results).

// Charts is what the dashboard's charts show.
type Charts struct {
	// Times are the steps' starts, shared by the four per-step charts.
	Times []time.Time
	// Requests: OK then one series per error class, per minute.
	Requests []ChartSeries
	// Tokens: input, output, cache write, cache read, per minute.
	Tokens []ChartSeries
	// FirstToken and Total: latency p50, p95, p99 in ms; NaN (a gap) for
	// a step without requests.
	FirstToken, Total []ChartSeries
	// SpendTimes and Spend: USD per spend step; SpendUnit names the step.
	SpendTimes []time.Time
	Spend      []ChartSeries
	SpendUnit  string
}

// ShapeCharts turns the series (one point per step) and the spend series
// (one point per spend step) into the charts' series.
func ShapeCharts(series []SeriesPoint, step time.Duration, spendSeries []SeriesPoint, spendStep time.Duration) Charts {
	var c Charts
	perMin := step.Minutes()
	var times []time.Time
	var ok []float64
	classes := make([][]float64, len(errorClasses))
	var tIn, tOut, tWrite, tRead []float64
	var f50, f95, f99, t50, t95, t99 []float64
	for _, p := range series {
		// No requests, no latency: a gap rather than a dive to zero.
		ms := func(d time.Duration) float64 {
			if p.Requests == 0 {
				return math.NaN()
			}
			return float64(d) / float64(time.Millisecond)
		}
		times = append(times, p.Time)
		errs := int64(0)
		for i, c := range errorClasses {
			classes[i] = append(classes[i], float64(p.ErrorsByClass[c])/perMin)
			errs += p.ErrorsByClass[c]
		}
		ok = append(ok, float64(max(p.Requests-errs, 0))/perMin)
		tIn = append(tIn, float64(p.Tokens.Input)/perMin)
		tOut = append(tOut, float64(p.Tokens.Output)/perMin)
		tWrite = append(tWrite, float64(p.Tokens.CacheWrite5m+p.Tokens.CacheWrite1h)/perMin)
		tRead = append(tRead, float64(p.Tokens.CacheRead)/perMin)
		f50, f95, f99 = append(f50, ms(p.FirstToken.P50)), append(f95, ms(p.FirstToken.P95)), append(f99, ms(p.FirstToken.P99))
		t50, t95, t99 = append(t50, ms(p.Total.P50)), append(t95, ms(p.Total.P95)), append(t99, ms(p.Total.P99))
	}
	reqSeries := []ChartSeries{{Name: ClassLabel(storage.ClassNone), Color: Palette[3], Values: ok}}
	classColours := []color.Color{Palette[1], Palette[4], Palette[2], Palette[5], Palette[6]}
	for i, c := range errorClasses {
		reqSeries = append(reqSeries, ChartSeries{Name: ClassLabel(c), Color: classColours[i], Values: classes[i]})
	}
	c.Times, c.Requests = times, reqSeries
	c.Tokens = []ChartSeries{
		{Name: lang.L("Input"), Values: tIn},
		{Name: lang.L("Output"), Values: tOut},
		{Name: lang.L("Cache write"), Values: tWrite},
		{Name: lang.L("Cache read"), Values: tRead},
	}
	c.FirstToken = []ChartSeries{{Name: "p50", Values: f50}, {Name: "p95", Values: f95}, {Name: "p99", Values: f99}}
	c.Total = []ChartSeries{{Name: "p50", Values: t50}, {Name: "p95", Values: t95}, {Name: "p99", Values: t99}}

	var spendTimes []time.Time
	var spend []float64
	for _, p := range spendSeries {
		spendTimes = append(spendTimes, p.Time)
		spend = append(spend, p.CostUSD)
	}
	c.SpendUnit = lang.L("USD per hour")
	if spendStep >= 24*time.Hour {
		c.SpendUnit = lang.L("USD per day")
	}
	c.SpendTimes, c.Spend = spendTimes, []ChartSeries{{Name: lang.L("Spend"), Color: Palette[0], Values: spend}}

	return c
}

// ModelOptions is the model filter's choices: "All models", then every
// model of the records, sorted, once each.
func ModelOptions(recs []storage.Record) []string {
	models := []string{lang.L("All models")}
	for _, r := range recs {
		if r.Model != "" && !slices.Contains(models, r.Model) {
			models = append(models, r.Model)
		}
	}
	sort.Strings(models[1:])
	return models
}

// FilterRecords appends to dst the records of model ("" any) passing
// status filter status (see MatchStatus), in order.
func FilterRecords(dst, recs []storage.Record, model string, status int) []storage.Record {
	for _, r := range recs {
		if model != "" && r.Model != model {
			continue
		}
		if !MatchStatus(r, status) {
			continue
		}
		dst = append(dst, r)
	}
	return dst
}

// MatchStatus reports whether r passes status filter i (see
// statusFilters).
func MatchStatus(r storage.Record, i int) bool {
	switch {
	case i <= 0:
		return true
	case i == 1:
		return r.ErrorClass == storage.ClassNone
	case i == 2:
		return r.ErrorClass != storage.ClassNone
	case i-3 < len(errorClasses):
		return r.ErrorClass == errorClasses[i-3]
	}
	return true
}

// HeadroomText describes the latest rate-limit headers.
func HeadroomText(r Headroom) string {
	if r.Seen.IsZero() {
		return lang.L("No rate-limit headers seen yet.")
	}
	var s string
	add := func(name string, rem, lim int64) {
		if lim == 0 {
			return
		}
		if s != "" {
			s += "\n"
		}
		s += lang.L("{{.Name}}: {{.Remaining}} of {{.Limit}} left", map[string]any{
			"Name": name, "Remaining": FormatCount(float64(rem)), "Limit": FormatCount(float64(lim)),
		})
	}
	add(lang.L("Requests"), r.RequestsRemaining, r.RequestsLimit)
	add(lang.L("Tokens"), r.TokensRemaining, r.TokensLimit)
	add(lang.L("Input tokens"), r.InputTokensRemaining, r.InputTokensLimit)
	add(lang.L("Output tokens"), r.OutputTokensRemaining, r.OutputTokensLimit)
	if !r.Reset.IsZero() {
		s += "\n" + lang.L("Resets at {{.Time}}", map[string]any{"Time": r.Reset.Local().Format("15:04:05")})
	}
	return s
}

// maxBreakdown is how many rows a breakdown card lists.
const maxBreakdown = 6

// BreakdownText lists the rows with the most requests: name, requests,
// errors and cost.
func BreakdownText(rows []Breakdown) string {
	if len(rows) == 0 {
		return lang.L("No requests in this window.")
	}
	rows = slices.Clone(rows)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Requests > rows[j].Requests })
	var lines []string
	for _, r := range rows[:min(len(rows), maxBreakdown)] {
		name := r.Name
		if name == "" {
			name = lang.L("(none)")
		}
		lines = append(lines, lang.L("{{.Name}}: {{.Requests}} requests, {{.Errors}} errors, {{.Cost}}", map[string]any{
			"Name": name, "Requests": r.Requests, "Errors": r.Errors, "Cost": FormatUSD(r.CostUSD),
		}))
	}
	return strings.Join(lines, "\n")
}

// ErrorTypesText lists error types by count.
func ErrorTypesText(m map[string]int64) string {
	if len(m) == 0 {
		return lang.L("No errors in this window.")
	}
	type kv struct {
		k string
		v int64
	}
	var rows []kv
	for k, v := range m {
		rows = append(rows, kv{k, v})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].v > rows[j].v || rows[i].v == rows[j].v && rows[i].k < rows[j].k })
	var lines []string
	for _, r := range rows[:min(len(rows), maxBreakdown)] {
		lines = append(lines, fmt.Sprintf("%s: %d", r.k, r.v))
	}
	return strings.Join(lines, "\n")
}

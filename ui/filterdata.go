package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// The Filters page's data shaping: pure functions of what the core
// returned, tested without widgets (filterspage.go shows their results).

// The filter lists' values, as the Filters page and the dashboard use them.
type (
	FilterList    = coreapi.FilterList
	FilterEntry   = coreapi.FilterEntry
	FilterTest    = coreapi.FilterTest
	FilterTestHit = coreapi.FilterTestHit
)

// listModes are a list's action choices on one side, in the order of
// listModeOptions; "" is each entry's own action.
var listModes = []string{"", coreapi.FilterRedact, coreapi.FilterBlock, coreapi.FilterFlag, coreapi.FilterOff}

func listModeOptions() []string {
	return []string{lang.L("Each entry's own"), ActionLabel(coreapi.FilterRedact), ActionLabel(coreapi.FilterBlock),
		ActionLabel(coreapi.FilterFlag), ActionLabel(coreapi.FilterOff)}
}

// entryActions and entryScopes are an entry's choices, in the order of
// their options.
var (
	entryActions = []string{coreapi.FilterRedact, coreapi.FilterBlock, coreapi.FilterFlag}
	entryScopes  = []string{coreapi.ScopeRequest, coreapi.ScopeResponse, coreapi.ScopeBoth}
)

func entryActionOptions() []string {
	return []string{ActionLabel(coreapi.FilterRedact), ActionLabel(coreapi.FilterBlock), ActionLabel(coreapi.FilterFlag)}
}

func entryScopeOptions() []string {
	return []string{ScopeLabel(coreapi.ScopeRequest), ScopeLabel(coreapi.ScopeResponse), ScopeLabel(coreapi.ScopeBoth)}
}

// ActionLabel is the user-facing name of a filter action ("" is redact,
// an entry's default).
func ActionLabel(a string) string {
	switch a {
	case coreapi.FilterRedact, "":
		return lang.L("Redact")
	case coreapi.FilterBlock:
		return lang.L("Block")
	case coreapi.FilterFlag:
		return lang.L("Record only")
	case coreapi.FilterOff:
		return lang.L("Off")
	}
	return a
}

// ScopeLabel is the user-facing name of an entry's side ("" is requests).
func ScopeLabel(s string) string {
	switch s {
	case coreapi.ScopeResponse:
		return lang.L("Answers only")
	case coreapi.ScopeBoth:
		return lang.L("Requests and answers")
	}
	return lang.L("Requests only")
}

// EntryText is an entry as the list editor shows it: the pattern (a regex
// written re:PATTERN, as in exported lists) or a built-in entry's note
// and rule name, then its action and side.
func EntryText(e FilterEntry) string {
	what := e.Pattern
	if e.Regex {
		what = "re:" + e.Pattern
	}
	if e.Name != "" {
		what = e.Name
		if e.Note != "" {
			what += " — " + e.Note
		}
	}
	return lang.L("{{.Pattern}} · {{.Action}} · {{.Scope}}", map[string]any{"Pattern": what, "Action": ActionLabel(e.Action), "Scope": ScopeLabel(e.Scope)})
}

// ListText sums a list up: its entries, how many are off, and its hits.
func ListText(l FilterList, hits int64) string {
	s := lang.L("{{.Count}} entries", map[string]any{"Count": l.Count})
	if l.Off > 0 {
		s += ", " + lang.L("{{.Off}} off", map[string]any{"Off": l.Off})
	}
	return s + " · " + lang.L("{{.Hits}} hits in 30 days", map[string]any{"Hits": hits})
}

// RuleHits counts the records' filter hits by list and entry number (the
// records name an entry "N rule"). It is what the list editor shows per
// entry: the storage rollups count hits by list only.
func RuleHits(recs []storage.Record) map[string]map[int]int64 {
	out := map[string]map[int]int64{}
	for _, r := range recs {
		for _, h := range r.FilterHits {
			num, _, _ := strings.Cut(h.Entry, " ")
			n, err := strconv.Atoi(num)
			if err != nil || n < 1 {
				continue
			}
			if out[h.List] == nil {
				out[h.List] = map[int]int64{}
			}
			out[h.List][n] += int64(h.Count)
		}
	}
	return out
}

// NewFilterEntry checks the add-entry form (the core checks the rest,
// e.g. that a regex compiles, and its error is shown as it is).
func NewFilterEntry(pattern string, regex bool, action, scope int) (FilterEntry, error) {
	if strings.TrimSpace(pattern) == "" {
		return FilterEntry{}, fmt.Errorf("%s", lang.L("the keyword or pattern is empty"))
	}
	e := FilterEntry{Pattern: pattern, Regex: regex}
	if action >= 0 && action < len(entryActions) {
		e.Action = entryActions[action]
	}
	if scope >= 0 && scope < len(entryScopes) {
		e.Scope = entryScopes[scope]
	}
	return e, nil
}

// TestResultText is what the "Try it" box shows under the text: the
// rules that matched, or why the request would be refused.
func TestResultText(r FilterTest) string {
	if len(r.Hits) == 0 {
		return lang.L("Nothing matches: the text is sent as it is.")
	}
	var lines []string
	if r.Blocked != "" {
		lines = append(lines, lang.L("Blocked: {{.Reason}}", map[string]any{"Reason": r.Blocked}))
	}
	for _, h := range r.Hits {
		lines = append(lines, lang.L("{{.List}} #{{.Entry}} ({{.Rule}}): {{.Action}} × {{.Count}}", map[string]any{
			"List": h.List, "Entry": h.Entry, "Rule": h.Rule, "Action": ActionLabel(h.Action), "Count": h.Count,
		}))
	}
	return strings.Join(lines, "\n")
}

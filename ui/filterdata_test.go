package ui

import (
	"maps"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// Per-entry hits come from the records, whose hits name the entry "N
// rule"; answers' hits count too; a malformed entry is skipped.
func TestRuleHits(t *testing.T) {
	recs := []storage.Record{
		{FilterHits: []storage.FilterHit{{List: "secrets", Entry: "4 github-token", Action: "redact", Count: 2}, {List: "zh-words", Entry: "1 zh-words-1", Action: "block", Count: 1}}},
		{},
		{FilterHits: []storage.FilterHit{{List: "secrets", Entry: "4 github-token", Action: "answer:flag", Count: 1}, {List: "secrets", Entry: "x", Count: 9}}},
	}
	got := RuleHits(recs)
	if !maps.Equal(got["secrets"], map[int]int64{4: 3}) || !maps.Equal(got["zh-words"], map[int]int64{1: 1}) || len(got) != 2 {
		t.Fatalf("RuleHits = %v", got)
	}
}

func TestEntryAndListText(t *testing.T) {
	for _, c := range []struct {
		e    FilterEntry
		want string
	}{
		{FilterEntry{Pattern: "机密"}, "机密 · Redact · Requests only"},
		{FilterEntry{Pattern: `proj-\d+`, Regex: true, Action: coreapi.FilterBlock, Scope: coreapi.ScopeBoth}, `re:proj-\d+ · Block · Requests and answers`},
		{FilterEntry{Pattern: "ghp_…", Regex: true, Name: "github-token", Note: "GitHub tokens", Action: coreapi.FilterFlag, Scope: coreapi.ScopeResponse}, "github-token — GitHub tokens · Record only · Answers only"},
	} {
		if got := EntryText(c.e); got != c.want {
			t.Errorf("EntryText(%+v) = %q, want %q", c.e, got, c.want)
		}
	}
	if got := ListText(FilterList{Count: 12, Off: 2}, 7); got != "12 entries, 2 off · 7 hits in 30 days" {
		t.Errorf("ListText = %q", got)
	}
	if got := ListText(FilterList{Count: 3}, 0); got != "3 entries · 0 hits in 30 days" {
		t.Errorf("ListText = %q", got)
	}
}

func TestNewFilterEntry(t *testing.T) {
	if _, err := NewFilterEntry("  ", false, 0, 0); err == nil {
		t.Error("an empty pattern accepted")
	}
	e, err := NewFilterEntry(`proj-\d+`, true, 1, 2)
	if err != nil || e != (FilterEntry{Pattern: `proj-\d+`, Regex: true, Action: coreapi.FilterBlock, Scope: coreapi.ScopeBoth}) {
		t.Errorf("NewFilterEntry = %+v %v", e, err)
	}
}

func TestTestResultText(t *testing.T) {
	if got := TestResultText(FilterTest{Text: "hello"}); got != "Nothing matches: the text is sent as it is." {
		t.Errorf("no hits: %q", got)
	}
	r := FilterTest{Blocked: "blocked by words-2", Hits: []FilterTestHit{{List: "words", Entry: 2, Rule: "words-2", Action: "block", Count: 1}, {List: "secrets", Entry: 4, Rule: "github-token", Action: "redact", Count: 2}}}
	if got, want := TestResultText(r), "Blocked: blocked by words-2\nwords #2 (words-2): Block × 1\nsecrets #4 (github-token): Redact × 2"; got != want {
		t.Errorf("TestResultText = %q, want %q", got, want)
	}
}

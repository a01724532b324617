package filter

import (
	"bytes"
	"strings"
	"testing"
)

func TestTextRoundTrip(t *testing.T) {
	in := "\ufeff# project names\n\n机密项目\nblock both Project Falcon\nredact request re:\\bACME-[0-9]{6}\\b\n  flag response 内部  \n"
	es, err := ParseText(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Pattern: "机密项目"},
		{Pattern: "Project Falcon", Action: Block, Scope: ScopeBoth},
		{Pattern: `\bACME-[0-9]{6}\b`, Regex: true, Action: Redact, Scope: ScopeRequest},
		{Pattern: "内部", Action: Flag, Scope: ScopeResponse},
	}
	if len(es) != len(want) {
		t.Fatalf("%d entries: %+v", len(es), es)
	}
	for i := range want {
		if es[i].Pattern != want[i].Pattern || es[i].Regex != want[i].Regex || es[i].Action != want[i].Action || es[i].Scope != want[i].Scope {
			t.Errorf("entry %d: %+v, want %+v", i+1, es[i], want[i])
		}
	}
	var buf bytes.Buffer
	if err := FormatText(&buf, List{Name: "p", Entries: es}); err != nil {
		t.Fatal(err)
	}
	again, err := ParseText(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(es) {
		t.Fatalf("round trip: %d entries", len(again))
	}
	for i := range es {
		if again[i].Pattern != es[i].Pattern || again[i].Regex != es[i].Regex || again[i].action() != es[i].action() || again[i].scope() != es[i].scope() {
			t.Errorf("round trip entry %d: %+v, want %+v", i+1, again[i], es[i])
		}
	}
}

func TestTextBadRegexNamesLine(t *testing.T) {
	_, err := ParseText(strings.NewReader("ok\nre:(open\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("%v", err)
	}
}

func TestSecretsExportParses(t *testing.T) {
	var buf bytes.Buffer
	FormatText(&buf, DefaultSecrets())
	es, err := ParseText(&buf)
	if err != nil || len(es) != len(builtinSecrets) {
		t.Fatalf("%d entries, %v", len(es), err)
	}
}

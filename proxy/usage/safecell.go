package usage

import (
	"strings"
	"unicode"
)

// Model names, route names and paths in a report came from outside
// (clients, upstreams, older records). Printed as they are, a CSV cell
// starting with = + - @ runs as a formula when the file is opened in a
// spreadsheet, and an escape sequence rewrites the user's terminal
// (issue 14). These two functions make a cell safe for each.

// CSVCell neutralises a cell a spreadsheet would take for a formula: it
// is prefixed with a single quote (OWASP's advice), which the spreadsheet
// shows as text; control characters are dropped. Numbers Ferry writes
// itself never go through it.
func CSVCell(s string) string {
	s = stripControl(s)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// TerminalCell removes control characters (C0 with tabs and line breaks,
// DEL, C1, among them ESC and CSI), so a cell prints as one line of text
// and cannot move the cursor, recolour or retitle the terminal.
func TerminalCell(s string) string { return stripControl(s) }

func stripControl(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

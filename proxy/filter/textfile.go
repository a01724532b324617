package filter

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// The plain-text list format, for import and export: one entry per line;
// blank lines and lines starting with '#' are skipped; an optional
// "ACTION SCOPE " prefix (redact|block|flag, request|response|both); a
// regex entry is written "re:PATTERN", anything else is a keyword. Lines
// are trimmed, so a keyword cannot start or end with a space.
//
//	# project names
//	机密项目
//	block both Project Falcon
//	redact request re:\bACME-[0-9]{6}\b

// MaxImport bounds an imported file.
const MaxImport = 16 << 20

// ParseText reads entries in the plain-text format. An error names the
// line (and says why: a bad regex gives RE2's own message).
func ParseText(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(io.LimitReader(r, MaxImport+1))
	sc.Buffer(make([]byte, 64<<10), MaxPatternLen+64)
	n, size := 0, 0
	for sc.Scan() {
		n++
		size += len(sc.Bytes()) + 1
		if size > MaxImport {
			return nil, fmt.Errorf("the file is larger than %d MB", MaxImport>>20)
		}
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var e Entry
		if f := strings.Fields(line); len(f) >= 3 {
			a, aerr := ParseAction(f[0], false)
			s, serr := ParseScope(f[1])
			if aerr == nil && serr == nil {
				e.Action, e.Scope = a, s
				line = strings.TrimSpace(line[len(f[0]):])
				line = strings.TrimSpace(line[len(f[1]):])
			}
		}
		if p, ok := strings.CutPrefix(line, "re:"); ok {
			e.Regex, line = true, p
		}
		e.Pattern = line
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(out) >= MaxEntries {
			return nil, fmt.Errorf("line %d: more than %d entries", n, MaxEntries)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return out, nil
}

// FormatText writes a list in the plain-text format.
func FormatText(w io.Writer, l List) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Ferry filter list %s (%d entries)\n", l.Name, len(l.Entries))
	for i, e := range l.Entries {
		if e.Note != "" {
			fmt.Fprintf(bw, "# %d %s: %s\n", i+1, l.ruleName(i), e.Note)
		}
		if e.Disabled {
			fmt.Fprintf(bw, "# (entry %d is turned off)\n", i+1)
		}
		if e.Action != "" || e.Scope != "" {
			fmt.Fprintf(bw, "%s %s ", e.action(), e.scope())
		}
		if e.Regex {
			bw.WriteString("re:")
		}
		bw.WriteString(e.Pattern)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

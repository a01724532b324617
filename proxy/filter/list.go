package filter

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Action is what a matching entry does.
type Action string

const (
	// Redact replaces the match with a placeholder naming the rule.
	Redact Action = "redact"
	// Block refuses the request (400) or ends the answer with an error.
	Block Action = "block"
	// Flag only records the hit.
	Flag Action = "flag"
	// Off, as a list's mode on one side, turns the list off there.
	Off Action = "off"
)

// ParseAction reads an action name; allowOff admits "off" (a list's mode).
func ParseAction(s string, allowOff bool) (Action, error) {
	switch a := Action(strings.ToLower(strings.TrimSpace(s))); a {
	case Redact, Block, Flag:
		return a, nil
	case Off:
		if allowOff {
			return a, nil
		}
	}
	if allowOff {
		return "", fmt.Errorf("action %q: want redact, block, flag or off", s)
	}
	return "", fmt.Errorf("action %q: want redact, block or flag", s)
}

// Scope is the side an entry applies to.
type Scope string

const (
	ScopeRequest  Scope = "request"
	ScopeResponse Scope = "response"
	ScopeBoth     Scope = "both"
)

// ParseScope reads a scope name.
func ParseScope(s string) (Scope, error) {
	switch sc := Scope(strings.ToLower(strings.TrimSpace(s))); sc {
	case ScopeRequest, ScopeResponse, ScopeBoth:
		return sc, nil
	}
	return "", fmt.Errorf("scope %q: want request, response or both", s)
}

// Side is where text is scanned.
type Side int

const (
	Request Side = iota
	Response
)

func (s Side) String() string {
	if s == Response {
		return "response"
	}
	return "request"
}

func (sc Scope) covers(s Side) bool {
	switch sc {
	case ScopeBoth:
		return true
	case ScopeResponse:
		return s == Response
	default:
		return s == Request
	}
}

// Bounds of what a list may hold, so a hostile import or admin call cannot
// make Ferry hold or compile without limit.
const (
	DefaultMaxLen  = 256     // bytes a match may span unless the entry says otherwise
	MaxMaxLen      = 1 << 16 // the largest maximum match length an entry may ask for
	MaxPatternLen  = 4096    // bytes of one keyword or regex
	MaxEntries     = 100_000 // entries of one list
	MaxAllow       = 64      // allowlisted values of one entry
	MaxNameLen     = 64      // bytes of a list's or a rule's name
	maxRegexRepeat = 1000    // RE2's own bound on {n,m}
)

// Entry is one rule of a list.
type Entry struct {
	// Pattern is a keyword (case-folded, NFKC-normalised substring) or,
	// with Regex, an RE2 regular expression. A regex with a group named
	// "secret" replaces only that group (the value, not its name).
	Pattern string `json:"pattern"`
	Regex   bool   `json:"regex,omitempty"`
	// Action is the entry's own action; a list's mode on a side overrides
	// it. Empty means redact.
	Action Action `json:"action,omitempty"`
	// Scope is the side the entry applies to. Empty means request.
	Scope Scope `json:"scope,omitempty"`
	// MaxLen bounds a match in bytes: a longer one is not a match. It is
	// what a streamed answer holds back. Zero means DefaultMaxLen.
	MaxLen int `json:"max_len,omitempty"`
	// Allow lists values that never match (documented example keys).
	Allow []string `json:"allow,omitempty"`
	// Disabled turns this one entry off.
	Disabled bool `json:"disabled,omitempty"`
	// Name is the rule's name in placeholders and hit records; built-in
	// entries have one (aws-secret-key), user entries are named
	// LIST-NUMBER.
	Name string `json:"name,omitempty"`
	// Note says what a built-in entry finds.
	Note string `json:"note,omitempty"`
}

// List is a named filter list.
type List struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Builtin lists' entries come with Ferry (their formats are kept
	// current by updates); only their switches are stored.
	Builtin bool `json:"builtin,omitempty"`
	// RequestMode and ResponseMode override the entries' actions on each
	// side; Off turns the list off there; empty keeps each entry's own.
	RequestMode  Action  `json:"request_mode,omitempty"`
	ResponseMode Action  `json:"response_mode,omitempty"`
	Entries      []Entry `json:"entries"`
}

var listName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidName reports whether s can name a list: it appears in placeholders
// inside JSON strings, so it is kept to letters, digits, '_', '.', '-'.
func ValidName(s string) error {
	if len(s) == 0 || len(s) > MaxNameLen || !listName.MatchString(s) {
		return fmt.Errorf("list name %q: 1 to %d letters, digits, '_', '.' or '-', starting with a letter or digit", truncate(s, MaxNameLen), MaxNameLen)
	}
	return nil
}

// Validate checks an entry as a user gave it: the pattern compiles, the
// bounds hold, and a response-scope regex has a bounded match.
func (e *Entry) Validate() error {
	if e.Pattern == "" {
		return fmt.Errorf("empty pattern")
	}
	if len(e.Pattern) > MaxPatternLen {
		return fmt.Errorf("pattern of %d bytes: at most %d", len(e.Pattern), MaxPatternLen)
	}
	if !utf8.ValidString(e.Pattern) {
		return fmt.Errorf("pattern is not valid UTF-8")
	}
	if e.Action != "" {
		if _, err := ParseAction(string(e.Action), false); err != nil {
			return err
		}
	}
	if e.Scope != "" {
		if _, err := ParseScope(string(e.Scope)); err != nil {
			return err
		}
	}
	if e.MaxLen < 0 || e.MaxLen > MaxMaxLen {
		return fmt.Errorf("max length %d: between 1 and %d bytes", e.MaxLen, MaxMaxLen)
	}
	if len(e.Allow) > MaxAllow {
		return fmt.Errorf("%d allowlisted values: at most %d", len(e.Allow), MaxAllow)
	}
	if e.Regex {
		re, err := regexp.Compile(e.Pattern)
		if err != nil {
			return fmt.Errorf("regex: %w", err)
		}
		if re.MatchString("") {
			return fmt.Errorf("regex %q matches empty text", e.Pattern)
		}
	} else if keyFold(e.Pattern) == "" {
		return fmt.Errorf("keyword %q is empty once normalised", e.Pattern)
	}
	return nil
}

func (e *Entry) action() Action {
	if e.Action == "" {
		return Redact
	}
	return e.Action
}

func (e *Entry) scope() Scope {
	if e.Scope == "" {
		return ScopeRequest
	}
	return e.Scope
}

func (e *Entry) maxLen() int {
	if e.MaxLen <= 0 {
		return DefaultMaxLen
	}
	return e.MaxLen
}

// Mode is the list's action on a side: its mode there, or "" (each
// entry's own).
func (l *List) Mode(s Side) Action {
	if s == Response {
		return l.ResponseMode
	}
	return l.RequestMode
}

// Validate checks a list: its name, its modes and every entry.
func (l *List) Validate() error {
	if err := ValidName(l.Name); err != nil {
		return err
	}
	for _, m := range []Action{l.RequestMode, l.ResponseMode} {
		if m != "" {
			if _, err := ParseAction(string(m), true); err != nil {
				return fmt.Errorf("list %s: %w", l.Name, err)
			}
		}
	}
	if len(l.Entries) > MaxEntries {
		return fmt.Errorf("list %s: %d entries, at most %d", l.Name, len(l.Entries), MaxEntries)
	}
	for i := range l.Entries {
		if err := l.Entries[i].Validate(); err != nil {
			return fmt.Errorf("list %s entry %d: %w", l.Name, i+1, err)
		}
	}
	return nil
}

// ruleName is the name an entry goes by in placeholders and hit records.
func (l *List) ruleName(i int) string {
	if n := l.Entries[i].Name; n != "" {
		return n
	}
	return fmt.Sprintf("%s-%d", l.Name, i+1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

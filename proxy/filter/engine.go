package filter

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// Set is a compiled, immutable set of enabled lists: what the request
// stage and the response hook match with. Build a new one when a list
// changes; a Set is safe for concurrent use.
type Set struct {
	key     []byte
	version string
	rules   []rule
	sides   [2]side
}

// rule is one enabled entry, compiled.
type rule struct {
	list    string
	entry   int // 1-based, as the CLI numbers entries
	name    string
	actions [2]Action // per side; "" when the rule is off there
	maxLen  int
	allow   map[string]bool

	re     *regexp.Regexp
	groups []string // re's group names
	secret []int    // indexes of groups named "secret"
	alpha  *[256]bool
	reject func(value, whole []byte, groups [][2]int, names []string) bool

	keyword string // folded; "" for a regex
}

// side is what matches on one side.
type side struct {
	anchored []int // rules found through anchors
	anchors  *acMatcher
	anchorOf []anchorRef
	plain    []int // regex rules run over the whole text
	keywords *acMatcher
	kwRule   []int
	// hold is the longest maximum match length of the rules that change
	// text on this side (redact, block): what a stream must hold back.
	hold int
	// tail is what must stay held when no anchor is in sight: the longest
	// match of a plain regex, a keyword's bytes, or an anchor's prefix
	// plus how far before it a match may start. Held text is let go up to
	// min(end - tail, every anchor still open - its reach back).
	tail int
	any  bool
}

type anchorRef struct {
	rule int
	back int // how far before the anchor a match may start
	fwd  int // how far after the anchor's start it may end
	line bool
	near func(text []byte, at int) bool
	// nearBack, nearFwd: the bytes near reads around the anchor (see
	// builtin); both zero means unknown.
	nearBack, nearFwd int
}

// Match is one hit in a text.
type Match struct {
	Start, End int // the bytes to replace (the "secret" group when there is one)
	Rule       int // index into the Set's rules
}

// Compile builds a Set from lists; disabled lists and entries are left
// out. key is the per-install key placeholders are hashed under.
func Compile(lists []List, key []byte) (*Set, error) {
	s := &Set{key: append([]byte(nil), key...)}
	h := sha256.New()
	var kw [2][]string
	var anchors [2][]string
	for li := range lists {
		l := &lists[li]
		if err := l.Validate(); err != nil {
			return nil, err
		}
		if !l.Enabled {
			continue
		}
		fmt.Fprintf(h, "list %q %q %q %d\n", l.Name, l.RequestMode, l.ResponseMode, len(l.Entries))
		entries := l.Entries
		var builtins []builtin
		if l.Builtin && l.Name == SecretsList {
			builtins = builtinSecrets
		}
		for ei := range entries {
			e := &entries[ei]
			if e.Disabled {
				continue
			}
			fmt.Fprintf(h, "entry %d %q %t %q %q %d %q\n", ei, e.Pattern, e.Regex, e.action(), e.scope(), e.maxLen(), e.Allow)
			r := rule{list: l.Name, entry: ei + 1, name: l.ruleName(ei), maxLen: e.maxLen()}
			for sd := Request; sd <= Response; sd++ {
				if !e.scope().covers(sd) {
					continue
				}
				a := e.action()
				if m := l.Mode(sd); m != "" {
					a = m
				}
				if a != Off {
					r.actions[sd] = a
				}
			}
			if r.actions[Request] == "" && r.actions[Response] == "" {
				continue
			}
			if len(e.Allow) > 0 {
				r.allow = make(map[string]bool, len(e.Allow))
				for _, v := range e.Allow {
					r.allow[v] = true
				}
			}
			var b *builtin
			if ei < len(builtins) && builtins[ei].Pattern == e.Pattern {
				b = &builtins[ei]
				r.alpha, r.reject = b.alpha, b.reject
			}
			if e.Regex {
				re, err := regexp.Compile(e.Pattern)
				if err != nil {
					return nil, fmt.Errorf("list %s entry %d: regex: %w", l.Name, ei+1, err)
				}
				r.re, r.groups = re, re.SubexpNames()
				for gi, n := range r.groups {
					if n == "secret" {
						r.secret = append(r.secret, gi)
					}
				}
			} else {
				r.keyword = keyFold(e.Pattern)
			}
			ri := len(s.rules)
			s.rules = append(s.rules, r)
			for sd := Request; sd <= Response; sd++ {
				a := r.actions[sd]
				if a == "" {
					continue
				}
				sdd := &s.sides[sd]
				sdd.any = true
				if a != Flag {
					sdd.hold = max(sdd.hold, r.maxLen)
				}
				switch {
				case r.re == nil:
					kw[sd] = append(kw[sd], r.keyword)
					sdd.kwRule = append(sdd.kwRule, ri)
					// NFKC may fold several bytes into one (full width).
					sdd.tail = max(sdd.tail, min(r.maxLen, 4*len(e.Pattern)))
				case b != nil && len(b.anchors) > 0:
					sdd.anchored = append(sdd.anchored, ri)
					for _, an := range b.anchors {
						sdd.tail = max(sdd.tail, len(an)-1+b.back)
						anchors[sd] = append(anchors[sd], an)
						fwd := b.fwd
						if fwd == 0 {
							fwd = r.maxLen
						}
						sdd.anchorOf = append(sdd.anchorOf, anchorRef{rule: ri, back: b.back, fwd: fwd, line: b.line, near: b.near, nearBack: b.nearBack, nearFwd: b.nearFwd})
					}
				default:
					sdd.plain = append(sdd.plain, ri)
					sdd.tail = max(sdd.tail, r.maxLen)
				}
			}
		}
	}
	for sd := range s.sides {
		if len(kw[sd]) > 0 {
			s.sides[sd].keywords = newACMatcher(kw[sd])
		}
		if len(anchors[sd]) > 0 {
			s.sides[sd].anchors = newACMatcher(anchors[sd])
		}
	}
	s.version = hex.EncodeToString(h.Sum(nil)[:8])
	return s, nil
}

// Version changes whenever an enabled list, entry or mode changes: the
// cache keys on it, since the same request filtered differently is a
// different request upstream.
func (s *Set) Version() string {
	if s == nil {
		return "none"
	}
	return s.version
}

// Active reports whether any rule applies on a side.
func (s *Set) Active(sd Side) bool { return s != nil && s.sides[sd].any }

// Hold is the longest maximum match length of the rules that change text
// on a side: what a stream must hold back.
func (s *Set) Hold(sd Side) int {
	if s == nil {
		return 0
	}
	return s.sides[sd].hold
}

// settled returns the offset in text (the growing text of a streamed
// block) before which no match of side sd's rules can start and still
// change with more text: a stream may let go of everything before it once
// the matches found there are applied. Far less than Hold when no anchor
// of a long rule (a PEM block, a JWT) is in sight.
func (s *Set) settled(sd Side, text []byte) int {
	side := &s.sides[sd]
	p := len(text) - side.tail
	if side.anchors != nil {
		side.anchors.find(text, func(id, start, end int) {
			ref := &side.anchorOf[id]
			open := start+ref.fwd > len(text)
			if ref.line {
				open = open && bytes.IndexByte(text[end:], '\n') < 0
			}
			if open {
				p = min(p, start-ref.back)
			}
		})
	}
	return max(p, 0)
}

// Rule describes a matched rule for hit records and messages.
type Rule struct {
	List   string
	Entry  int // 1-based
	Name   string
	Action Action
}

// Rule returns match m's rule as seen on side sd.
func (s *Set) Rule(sd Side, m Match) Rule {
	r := &s.rules[m.Rule]
	return Rule{List: r.list, Entry: r.entry, Name: r.name, Action: r.actions[sd]}
}

// Placeholder is what a redacted value becomes: the rule's name and a
// keyed hash of the value, so the same secret reads the same in every
// turn of a conversation (Anthropic's prompt cache keeps hitting;
// preserved thinking stays bound to its conversation) while the value
// cannot be guessed back from it without the per-install key.
func (s *Set) Placeholder(ruleName string, value []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write(value)
	return "[FILTERED:" + ruleName + ":" + hex.EncodeToString(m.Sum(nil)[:2]) + "]"
}

// scratch holds a scan's reusable buffers.
type scratch struct {
	f       folded
	windows []window
	matches []Match
	fields  []field // a body's fields to scan
	text    []byte  // a field's decoded text, when it has escapes
}

type window struct {
	rule, start, end int
	line             bool
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Scan finds the matches of side sd's rules in text: sorted by start,
// not overlapping (where two overlap, the one starting first wins, then
// the longer, then the rule listed first). The result is valid until the
// next Scan with the same scratch.
func (s *Set) Scan(sd Side, text []byte) []Match {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	return slices.Clone(s.scan(sd, text, sc))
}

func (s *Set) scan(sd Side, text []byte, sc *scratch) []Match {
	sc.matches = sc.matches[:0]
	if s == nil || !s.sides[sd].any || len(text) == 0 {
		return sc.matches
	}
	side := &s.sides[sd]
	if side.anchors != nil {
		sc.windows = sc.windows[:0]
		side.anchors.find(text, func(id, start, end int) {
			ref := &side.anchorOf[id]
			if ref.near != nil && !ref.near(text, start) {
				return
			}
			sc.windows = append(sc.windows, window{ref.rule, max(0, start-ref.back), min(len(text), start+ref.fwd), ref.line})
		})
		slices.SortFunc(sc.windows, func(a, b window) int {
			if a.rule != b.rule {
				return a.rule - b.rule
			}
			return a.start - b.start
		})
		for i := 0; i < len(sc.windows); {
			w := sc.windows[i]
			j := i + 1
			for j < len(sc.windows) && sc.windows[j].rule == w.rule && sc.windows[j].start <= w.end {
				w.end = max(w.end, sc.windows[j].end)
				j++
			}
			// Whole lines for a rule anchored at line starts, so its ^
			// sees the text's own context, not the window's edge; the
			// others check word boundaries against the whole text.
			if w.line {
				w.start, w.end = lineStart(text, w.start), lineEnd(text, w.end)
			}
			s.regexIn(sd, w.rule, text, w.start, w.end, sc)
			i = j
		}
	}
	for _, ri := range side.plain {
		s.regexIn(sd, ri, text, 0, len(text), sc)
	}
	if side.keywords != nil {
		fold(text, &sc.f)
		side.keywords.find(sc.f.b, func(id, start, end int) {
			ri := side.kwRule[id]
			a, b := sc.f.span(start, end)
			if b-a <= s.rules[ri].maxLen && !s.rules[ri].allow[string(text[a:b])] {
				sc.matches = append(sc.matches, Match{a, b, ri})
			}
		})
	}
	return resolve(sc.matches)
}

// lineStart and lineEnd widen a window to whole lines, but by no more
// than maxWiden bytes: a minified file is one long line.
const maxWiden = 1024

func lineStart(b []byte, i int) int {
	lo := max(0, i-maxWiden)
	for i > lo && b[i-1] != '\n' {
		i--
	}
	return i
}

func lineEnd(b []byte, i int) int {
	hi := min(len(b), i+maxWiden)
	for i < hi && b[i] != '\n' {
		i++
	}
	return i
}

// regexIn runs rule ri's regex over text[lo:hi] and keeps its matches.
func (s *Set) regexIn(sd Side, ri int, text []byte, lo, hi int, sc *scratch) {
	r := &s.rules[ri]
	win := text[lo:hi]
	for _, loc := range r.re.FindAllSubmatchIndex(win, -1) {
		a, b := loc[0], loc[1]
		if b-a > r.maxLen {
			continue
		}
		for _, g := range r.secret {
			if loc[2*g] >= 0 {
				a, b = loc[2*g], loc[2*g+1]
				break
			}
		}
		if b <= a {
			continue
		}
		if r.alpha != nil && (lo+a > 0 && r.alpha[text[lo+a-1]] || lo+b < len(text) && r.alpha[text[lo+b]]) {
			continue // part of a longer word: not this token
		}
		if r.allow[string(win[a:b])] {
			continue
		}
		if r.reject != nil {
			groups := make([][2]int, len(r.groups))
			for gi := range groups {
				groups[gi] = [2]int{loc[2*gi], loc[2*gi+1]}
			}
			if r.reject(win[a:b], win, groups, r.groups) {
				continue
			}
		}
		sc.matches = append(sc.matches, Match{lo + a, lo + b, ri})
	}
}

// resolve sorts matches and drops the ones overlapping an earlier pick.
func resolve(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	slices.SortFunc(ms, func(a, b Match) int {
		switch {
		case a.Start != b.Start:
			return a.Start - b.Start
		case a.End != b.End:
			return b.End - a.End
		}
		return a.Rule - b.Rule
	})
	out := ms[:1]
	for _, m := range ms[1:] {
		if m.Start >= out[len(out)-1].End {
			out = append(out, m)
		}
	}
	return out
}

// Apply returns text with side sd's redactions made, and the matches
// found (their offsets in the original text). It is what `ferry filters
// test` shows; a block match is reported, not applied.
func (s *Set) Apply(sd Side, text []byte) ([]byte, []Match) {
	ms := s.Scan(sd, text)
	var out []byte
	last := 0
	for _, m := range ms {
		r := &s.rules[m.Rule]
		if r.actions[sd] != Redact {
			continue
		}
		out = append(out, text[last:m.Start]...)
		out = append(out, s.Placeholder(r.name, text[m.Start:m.End])...)
		last = m.End
	}
	if out == nil {
		return text, ms
	}
	return append(out, text[last:]...), ms
}

package reqkey

import (
	"bytes"
	"slices"
)

// The canonical form written by canon, one byte tag per value:
//
//	string  '"' canonical spelling '"'      (see str: JSON.stringify's escapes)
//	number  'n' [-]digits'e'exponent ';'   (no leading or trailing zeros; zero is "n0;")
//	true    't'   false 'f'   null 'z'
//	array   '[' values ']'
//	object  '{' (string value)* '}'         members sorted by decoded key, last duplicate kept
//
// Every value delimits itself, so the form is injective: two documents have
// the same form exactly when encoding/json (UseNumber, numbers by exact
// value) decodes them to equal values. Keys are ordered by their canonical
// spelling, which is one-to-one with their decoded value, so equal keys
// sort together.

// maxDepth is encoding/json's nesting limit: a document nested deeper is
// invalid to it, so it is to us.
const maxDepth = 10000

// billingPrefix starts Claude Code's per-request billing block.
const billingPrefix = "x-anthropic-billing-header:"

// Where a value sits, for the billing block: only an object element of the
// top-level "system" array can be one.
type place uint8

const (
	placeOther place = iota
	placeTop
	placeSystem
	placeSystemElem
)

// member is an object member's span in canon.out: the key's canonical
// spelling (without quotes) is out[key:keyEnd], the whole member (key and
// value) out[start:end].
type member struct{ start, key, keyEnd, end int }

// canon turns one JSON document into its canonical form. It is reused
// (pooled): out, members and scratch keep their capacity.
type canon struct {
	src     []byte
	out     []byte
	members []member // a stack: each open object's members follow its parent's
	scratch []byte   // sortMembers' copy of an object's members
	tmp     []byte   // respell's decoded string
	depth   int
}

// document appends the canonical form of src to c.out. It reports false,
// leaving c.out in an unspecified state past its length on entry, when src
// is not one valid JSON document.
func (c *canon) document(src []byte) bool {
	c.src = src
	c.depth = 0
	c.members = c.members[:0]
	i := c.value(skipWS(src, 0), placeTop)
	c.src = nil
	return i >= 0 && skipWS(src, i) == len(src)
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value writes the value at src[i] and returns the index after it, or -1.
func (c *canon) value(i int, at place) int {
	src := c.src
	if i >= len(src) {
		return -1
	}
	switch src[i] {
	case '"':
		return c.str(i)
	case '{':
		return c.object(i, at)
	case '[':
		return c.array(i, at)
	case 't':
		return c.literal(i, "true", 't')
	case 'f':
		return c.literal(i, "false", 'f')
	case 'n':
		return c.literal(i, "null", 'z')
	default:
		return c.number(i)
	}
}

func (c *canon) literal(i int, word string, tag byte) int {
	if !bytes.HasPrefix(c.src[i:], []byte(word)) {
		return -1
	}
	c.out = append(c.out, tag)
	return i + len(word)
}

func (c *canon) array(i int, at place) int {
	if c.depth++; c.depth > maxDepth {
		return -1
	}
	elem := placeOther
	if at == placeSystem {
		elem = placeSystemElem
	}
	c.out = append(c.out, '[')
	i = skipWS(c.src, i+1)
	if i < len(c.src) && c.src[i] == ']' {
		c.out = append(c.out, ']')
		c.depth--
		return i + 1
	}
	for {
		if i = c.value(i, elem); i < 0 {
			return -1
		}
		i = skipWS(c.src, i)
		if i >= len(c.src) {
			return -1
		}
		switch c.src[i] {
		case ',':
			i = skipWS(c.src, i+1)
		case ']':
			c.out = append(c.out, ']')
			c.depth--
			return i + 1
		default:
			return -1
		}
	}
}

func (c *canon) object(i int, at place) int {
	if c.depth++; c.depth > maxDepth {
		return -1
	}
	open := len(c.out)
	c.out = append(c.out, '{')
	base := len(c.members)
	i = skipWS(c.src, i+1)
	if i < len(c.src) && c.src[i] == '}' {
		c.out = append(c.out, '}')
		c.depth--
		return i + 1
	}
	for {
		if i >= len(c.src) || c.src[i] != '"' {
			return -1
		}
		m := member{start: len(c.out), key: len(c.out) + 1}
		if i = c.str(i); i < 0 {
			return -1
		}
		m.keyEnd = len(c.out) - 1
		i = skipWS(c.src, i)
		if i >= len(c.src) || c.src[i] != ':' {
			return -1
		}
		child := placeOther
		if at == placeTop && string(c.out[m.key:m.keyEnd]) == "system" {
			child = placeSystem
		}
		if i = c.value(skipWS(c.src, i+1), child); i < 0 {
			return -1
		}
		m.end = len(c.out)
		c.members = append(c.members, m)
		i = skipWS(c.src, i)
		if i >= len(c.src) {
			return -1
		}
		if c.src[i] == ',' {
			i = skipWS(c.src, i+1)
			continue
		}
		if c.src[i] != '}' {
			return -1
		}
		i++
		break
	}
	c.sortMembers(open+1, base)
	if at == placeSystemElem && c.isBilling(base) {
		// Left out of the key whatever else it holds (see the package doc).
		c.out = c.out[:open]
	} else {
		c.out = append(c.out, '}')
	}
	c.members = c.members[:base]
	c.depth--
	return i
}

// sortMembers puts the members from c.members[base:], written from
// c.out[from:], in key order and keeps only the last of duplicate keys,
// as encoding/json's decoding into a map does. Most objects are written
// in an order that is already strictly sorted, or small enough that the
// copy costs little.
func (c *canon) sortMembers(from, base int) {
	ms := c.members[base:]
	sorted := true
	for k := 1; k < len(ms); k++ {
		if bytes.Compare(c.key(ms[k-1]), c.key(ms[k])) >= 0 {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	if len(ms) <= 12 {
		// Most such objects have two or three members (role and content,
		// type and text): a plain insertion sort, stable, without the
		// generic sort's calls through a closure.
		for k := 1; k < len(ms); k++ {
			for j := k; j > 0 && bytes.Compare(c.key(ms[j-1]), c.key(ms[j])) > 0; j-- {
				ms[j-1], ms[j] = ms[j], ms[j-1]
			}
		}
	} else {
		slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(c.key(a), c.key(b)) })
	}
	c.scratch = append(c.scratch[:0], c.out[from:]...)
	c.out = c.out[:from]
	old := func(m member) []byte { return c.scratch[m.key-from : m.keyEnd-from] }
	kept := ms[:0] // written behind the reads: kept[n] for n <= k
	for k, m := range ms {
		if k+1 < len(ms) && bytes.Equal(old(m), old(ms[k+1])) {
			continue // a later duplicate wins
		}
		at := len(c.out)
		c.out = append(c.out, c.scratch[m.start-from:m.end-from]...)
		shift := at - m.start
		kept = append(kept, member{start: at, key: m.key + shift, keyEnd: m.keyEnd + shift, end: m.end + shift})
	}
	c.members = c.members[:base+len(kept)]
}

func (c *canon) key(m member) []byte { return c.out[m.key:m.keyEnd] }

// isBilling reports whether the object whose members are c.members[base:]
// is a text block whose text begins with the billing prefix.
func (c *canon) isBilling(base int) bool {
	var typ, text []byte
	for _, m := range c.members[base:] {
		v := c.out[m.keyEnd+1 : m.end] // the value, after the key's closing quote
		if len(v) < 2 || v[0] != '"' {
			continue
		}
		switch string(c.key(m)) {
		case "type":
			typ = v[1 : len(v)-1]
		case "text":
			text = v[1 : len(v)-1]
		}
	}
	return string(typ) == "text" && bytes.HasPrefix(text, []byte(billingPrefix))
}

// number writes the number at c.src[i] normalised: its exact decimal
// value as digits without leading or trailing zeros and an exponent.
func (c *canon) number(i int) int {
	src := c.src
	j := i
	neg := false
	if j < len(src) && src[j] == '-' {
		neg = true
		j++
	}
	intStart := j
	switch {
	case j < len(src) && src[j] == '0':
		j++
	case j < len(src) && src[j] >= '1' && src[j] <= '9':
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
	default:
		return -1
	}
	intEnd := j
	fracStart, fracEnd := j, j
	if j < len(src) && src[j] == '.' {
		j++
		fracStart = j
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
		if j == fracStart {
			return -1
		}
		fracEnd = j
	}
	var exp []byte
	expNeg := false
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			expNeg = src[j] == '-'
			j++
		}
		s := j
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
		if j == s {
			return -1
		}
		exp = src[s:j]
	}
	c.out = appendNumber(c.out, neg, src[intStart:intEnd], src[fracStart:fracEnd], exp, expNeg)
	return j
}

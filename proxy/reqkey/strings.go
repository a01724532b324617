package reqkey

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// SWAR constants: eight bytes looked at in one word. Strings are most of a
// request's bytes (prompts, tool descriptions), so the scan for the end of
// a string is the canonicaliser's hot loop.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special returns a word whose lowest set bit's byte is the first of the
// eight bytes of w that needs a closer look: a quote, a backslash, a
// control byte (invalid in a JSON string) or a byte of a multi-byte UTF-8
// sequence; zero when there is none. The subtract-and-mask tests may flag
// a byte above a true hit (a borrow), never below one, so the lowest flag
// is exact.
func special(w uint64) uint64 {
	ctl := (w - 0x20*lsb) &^ w
	q := w ^ ('"' * lsb)
	q = (q - lsb) &^ q
	bs := w ^ ('\\' * lsb)
	bs = (bs - lsb) &^ bs
	return (ctl | q | bs | w) & msb
}

// nextSpecial returns the index of the first byte from src[i] that
// special would flag, or len(src).
func nextSpecial(src []byte, i int) int {
	for ; i+8 <= len(src); i += 8 {
		if m := special(binary.LittleEndian.Uint64(src[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(src); i++ {
		if needsLook(src[i]) {
			return i
		}
	}
	return i
}

// str writes the string starting at c.src[i] == '"' in its canonical
// spelling and returns the index after its closing quote, or -1 when it
// is not a valid JSON string.
//
// The canonical spelling is the one JavaScript's JSON.stringify writes:
// the short escapes \" \\ \n \t \r \b \f, \u00xx (lowercase) for the
// other control bytes, every other character as itself in UTF-8. Claude
// Code and the TypeScript SDK send exactly that, so most strings are copied
// as they are after one scan; any other spelling (\/, \u00e9, invalid
// UTF-8) is decoded as encoding/json decodes it and written out again.
// Two strings get the same spelling exactly when they decode equal.
func (c *canon) str(i int) int {
	src := c.src
	j := i + 1
	for {
		// nextSpecial, inlined: a call per special byte was a quarter of
		// an 85 KB body's key, code being dense with escapes.
		for j+8 <= len(src) {
			if m := special(binary.LittleEndian.Uint64(src[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto look
			}
			j += 8
		}
		for j < len(src) && !needsLook(src[j]) {
			j++
		}
		if j >= len(src) {
			return -1
		}
	look:
		switch b := src[j]; {
		case b == '\\':
			// Runs of escapes (\n\t\t in code) are taken here without
			// going back to the word scan.
			for {
				if j+1 < len(src) && shortEscape[src[j+1]] {
					j += 2
				} else if canonicalU(src, j) {
					j += 6
				} else {
					return c.respell(i)
				}
				if j >= len(src) || src[j] != '\\' {
					break
				}
			}
		case b == '"':
			c.out = append(c.out, src[i:j+1]...)
			return j + 1
		case b < 0x20:
			return -1
		default:
			// A run of multi-byte UTF-8, checked whole: only bytes >= 0x80
			// make up a multi-byte character, so the run is valid exactly
			// when each character in it is.
			k := j + 1
			for k < len(src) && src[k] >= utf8.RuneSelf {
				k++
			}
			if !utf8.Valid(src[j:k]) {
				return c.respell(i)
			}
			j = k
		}
	}
}

// needsLook is special for one byte.
func needsLook(b byte) bool { return b == '"' || b == '\\' || b < 0x20 || b >= utf8.RuneSelf }

// shortEscape marks the bytes after a backslash that are canonical as
// they are.
var shortEscape = [256]bool{'"': true, '\\': true, 'n': true, 't': true, 'r': true, 'b': true, 'f': true}

// canonicalU reports whether the \u escape at src[j] is canonical: a
// control byte without a short escape, in lowercase hex.
func canonicalU(src []byte, j int) bool {
	if j+6 > len(src) || src[j+1] != 'u' || src[j+2] != '0' || src[j+3] != '0' || (src[j+4] != '0' && src[j+4] != '1') {
		return false
	}
	d := src[j+5]
	var v byte
	switch {
	case d >= '0' && d <= '9':
		v = d - '0'
	case d >= 'a' && d <= 'f':
		v = d - 'a' + 10
	default:
		return false
	}
	if src[j+4] == '1' {
		v += 16
	}
	return v != '\b' && v != '\t' && v != '\n' && v != '\f' && v != '\r'
}

// respell writes the string at c.src[i] decoded and re-spelled canonically.
func (c *canon) respell(i int) int {
	var end int
	if c.tmp, end = appendUnquoted(c.tmp[:0], c.src, i+1); end < 0 {
		return -1
	}
	c.out = append(c.out, '"')
	for _, b := range c.tmp {
		switch {
		case b == '"' || b == '\\':
			c.out = append(c.out, '\\', b)
		case b >= 0x20:
			c.out = append(c.out, b)
		case b == '\n':
			c.out = append(c.out, '\\', 'n')
		case b == '\t':
			c.out = append(c.out, '\\', 't')
		case b == '\r':
			c.out = append(c.out, '\\', 'r')
		case b == '\b':
			c.out = append(c.out, '\\', 'b')
		case b == '\f':
			c.out = append(c.out, '\\', 'f')
		default:
			const hex = "0123456789abcdef"
			c.out = append(c.out, '\\', 'u', '0', '0', hex[b>>4], hex[b&15])
		}
	}
	c.out = append(c.out, '"')
	return end
}

// appendUnquoted appends the decoded contents of the JSON string whose
// first content byte is src[i] (just after the opening quote) to out, and
// returns out and the index after the closing quote, or -1 when the string
// is not valid JSON. It decodes as encoding/json does: an invalid UTF-8
// byte becomes U+FFFD, a \u escape of a lone surrogate becomes U+FFFD (a
// valid pair of escapes one rune).
func appendUnquoted(out, src []byte, i int) ([]byte, int) {
	run := i // start of the bytes not yet copied
	for {
		if i = nextSpecial(src, i); i >= len(src) {
			return out, -1
		}
		switch b := src[i]; {
		case b == '"':
			return append(out, src[run:i]...), i + 1
		case b < 0x20:
			return out, -1
		case b == '\\':
			out = append(out, src[run:i]...)
			var ok bool
			if out, i, ok = appendEscape(out, src, i); !ok {
				return out, -1
			}
			run = i
		default:
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, src[run:i]...)
				out = utf8.AppendRune(out, utf8.RuneError)
				run = i + 1
			}
			i += size
		}
	}
}

// appendEscape decodes the escape at src[i] == '\\'.
func appendEscape(out, src []byte, i int) ([]byte, int, bool) {
	if i+1 >= len(src) {
		return out, i, false
	}
	switch c := src[i+1]; c {
	case '"', '\\', '/':
		return append(out, c), i + 2, true
	case 'b':
		return append(out, '\b'), i + 2, true
	case 'f':
		return append(out, '\f'), i + 2, true
	case 'n':
		return append(out, '\n'), i + 2, true
	case 'r':
		return append(out, '\r'), i + 2, true
	case 't':
		return append(out, '\t'), i + 2, true
	case 'u':
		r := hex4(src, i+2)
		if r < 0 {
			return out, i, false
		}
		if utf16.IsSurrogate(r) {
			// encoding/json takes the next escape as the pair's second
			// half only if together they make a rune; otherwise the
			// first is U+FFFD and the next escape is read on its own.
			if i+7 < len(src) && src[i+6] == '\\' && src[i+7] == 'u' {
				if dec := utf16.DecodeRune(r, hex4(src, i+8)); dec != utf8.RuneError {
					return utf8.AppendRune(out, dec), i + 12, true
				}
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(out, r), i + 6, true
	}
	return out, i, false
}

// hex4 reads four hex digits at src[i], or returns -1.
func hex4(src []byte, i int) rune {
	if i+4 > len(src) {
		return -1
	}
	var r rune
	for _, c := range src[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

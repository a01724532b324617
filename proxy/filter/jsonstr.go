package filter

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// jstr is the text of one JSON string value, decoded, and the raw
// (escaped) content it came from, so a match found in the text can be cut
// out of the body as exactly the bytes the client sent for it.
type jstr struct {
	text []byte
	src  []byte // the raw content; text aliases it when it has no escapes
	esc  bool
	buf  []byte // text's storage when the string has escapes (never the body)
}

// decode reads the raw content of a JSON string (between its quotes).
// Invalid UTF-8 and bad escapes pass through as the bytes they are: the
// scan must never fail on what a client sent.
func (j *jstr) decode(raw []byte) {
	j.src = raw
	if j.esc = bytes.IndexByte(raw, '\\') >= 0; !j.esc {
		j.text = raw
		return
	}
	text := j.buf[:0]
	var rb [utf8.UTFMax]byte
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			k := bytes.IndexByte(raw[i:], '\\')
			if k < 0 {
				k = len(raw) - i
			}
			text = append(text, raw[i:i+k]...)
			i += k
			continue
		}
		if i+1 < len(raw) {
			// The escapes code is full of (\n \t \" \\), without
			// unit's rune round trip: what unit decodes them to.
			if c := simpleEscape[raw[i+1]]; c != 0 {
				text = append(text, c)
				i += 2
				continue
			}
		}
		_, n, r := unit(raw, i)
		if r < 0 {
			text = append(text, raw[i])
		} else {
			text = append(text, rb[:utf8.EncodeRune(rb[:], r)]...)
		}
		i += n
	}
	j.text, j.buf = text, text[:0]
}

// simpleEscape maps the character after a backslash to what the escape
// stands for, 0 for \u and for what is no escape.
var simpleEscape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// unit reads the escape or byte at raw[i]: its decoded width, its raw
// length, and the rune it stands for (-1: the byte stands for itself).
func unit(raw []byte, i int) (w, n int, r rune) {
	c := raw[i]
	if c != '\\' || i+1 >= len(raw) {
		return 1, 1, -1
	}
	r, n = -1, 2
	if c := simpleEscape[raw[i+1]]; c != 0 {
		r = rune(c)
	} else if raw[i+1] == 'u' {
		if u, ok := hex4(raw[i+2:]); ok {
			r, n = rune(u), 6
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
					if u2, ok := hex4(raw[i+8:]); ok {
						if p := utf16.DecodeRune(rune(u), rune(u2)); p != utf8.RuneError {
							r, n = p, 12
						}
					}
				}
			}
		}
	}
	if r < 0 { // not an escape JSON knows: the backslash stands for itself
		return 1, 1, -1
	}
	return utf8.RuneLen(r), n, r
}

func hex4(b []byte) (uint16, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v uint16
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(c)
	}
	return v, true
}

// span maps a match [s, e) in the text to the raw bytes, widened to
// whole escapes: an escape is never cut. Matches are rare, so the map is
// walked for each one rather than kept for every string.
func (j *jstr) span(s, e int) (int, int) {
	if !j.esc {
		return s, e
	}
	rs, re := -1, len(j.src)
	d := 0
	for i := 0; i < len(j.src); {
		w, n, _ := unit(j.src, i)
		if rs < 0 && d+w > s {
			rs = i
		}
		if d >= e {
			re = i
			break
		}
		d += w
		i += n
	}
	if rs < 0 {
		rs = len(j.src)
	}
	return rs, re
}

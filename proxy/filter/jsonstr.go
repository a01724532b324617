package filter

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// jstr is the text of one JSON string value, decoded, with a map back to
// its raw (escaped) bytes, so a match found in the text can be cut out of
// the body as exactly the bytes the client sent for it.
type jstr struct {
	text []byte
	// raw[k] is the offset, in the string's raw content, of the escape or
	// byte that produced text[k]; raw[len(text)] is the raw length. Nil
	// when the string has no escapes (text is the raw content itself).
	raw []int32
	buf []byte // text's storage when the string has escapes (never the body)
}

// decode reads the raw content of a JSON string (between its quotes).
// Invalid UTF-8 and bad escapes pass through as the bytes they are: the
// scan must never fail on what a client sent.
func (j *jstr) decode(raw []byte) {
	if bytes.IndexByte(raw, '\\') < 0 {
		j.text, j.raw = raw, nil
		return
	}
	if cap(j.buf) < len(raw) {
		j.buf = make([]byte, 0, len(raw))
	}
	j.text, j.raw = j.buf[:0], j.raw[:0]
	var rb [utf8.UTFMax]byte
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			j.text = append(j.text, c)
			j.raw = append(j.raw, int32(i))
			i++
			continue
		}
		start := i
		var r rune = -1
		n := 2
		switch raw[i+1] {
		case '"', '\\', '/':
			r = rune(raw[i+1])
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
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
		if r < 0 { // not an escape JSON knows: keep the bytes
			j.text = append(j.text, c)
			j.raw = append(j.raw, int32(i))
			i++
			continue
		}
		w := utf8.EncodeRune(rb[:], r)
		j.text = append(j.text, rb[:w]...)
		for range w {
			j.raw = append(j.raw, int32(start))
		}
		i += n
	}
	j.raw = append(j.raw, int32(len(raw)))
	j.buf = j.text[:0]
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
// whole escapes: an escape is never cut.
func (j *jstr) span(s, e int) (int, int) {
	if j.raw == nil {
		return s, e
	}
	k := e
	for k < len(j.text) && e > 0 && j.raw[k] == j.raw[e-1] {
		k++
	}
	return int(j.raw[s]), int(j.raw[k])
}

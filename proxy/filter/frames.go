package filter

import (
	"bytes"
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// Reading the three kinds of frame the response filter looks into
// (content_block_start, _delta, _stop) without encoding/json: on every
// answer, its reflection was most of the filter's cost (a bench.sh
// profile: json.Unmarshal 0.12 s of the filter's 0.32 s per 6,000
// answers). What Anthropic sends (plain keys, an integer index, a type
// without escapes) is read directly; anything else (a key that differs
// only in case, escapes in a key or a type, an index written 1e0, not an
// object, JSON encoding/json would reject) is left to json.Unmarshal as
// before, so the filter decides exactly as it did. differential_test.go
// checks the two agree.

// frameHead is what the filter reads of a frame. Its slices alias the
// frame's data or the buffer handed in, valid until the next read.
type frameHead struct {
	index int
	typ   []byte // content_block.type (start) or delta.type (delta)
	// text and partial are delta.text and delta.partial_json; has* say
	// they were there and not null.
	text, partial       []byte
	hasText, hasPartial bool
}

// readStart reads a content_block_start's index and block type.
func readStart(data []byte) (index int, typ string) {
	var h frameHead
	if fastFrame(data, &h, "content_block", nil) {
		return h.index, string(h.typ)
	}
	var v struct {
		Index        int `json:"index"`
		ContentBlock struct {
			Type string `json:"type"`
		} `json:"content_block"`
	}
	json.Unmarshal(data, &v)
	return v.Index, v.ContentBlock.Type
}

// readStop reads a content_block_stop's index.
func readStop(data []byte) int {
	var h frameHead
	if fastFrame(data, &h, "", nil) {
		return h.index
	}
	var v struct {
		Index int `json:"index"`
	}
	json.Unmarshal(data, &v)
	return v.Index
}

// readDelta reads a content_block_delta's index, delta type and string
// fields, decoding escaped text into *buf; ok is false where
// json.Unmarshal fails (the frame then passes as it is).
func readDelta(data []byte, buf *[]byte) (h frameHead, ok bool) {
	if fastFrame(data, &h, "delta", buf) {
		return h, true
	}
	var v struct {
		Index int `json:"index"`
		Delta struct {
			Type        string  `json:"type"`
			Text        *string `json:"text"`
			PartialJSON *string `json:"partial_json"`
		} `json:"delta"`
	}
	if json.Unmarshal(data, &v) != nil {
		return frameHead{}, false
	}
	h = frameHead{index: v.Index, typ: []byte(v.Delta.Type)}
	if v.Delta.Text != nil {
		h.text, h.hasText = []byte(*v.Delta.Text), true
	}
	if v.Delta.PartialJSON != nil {
		h.partial, h.hasPartial = []byte(*v.Delta.PartialJSON), true
	}
	return h, true
}

// fastFrame reads data as json.Unmarshal would into the struct of the
// frame kind (inner names its object member: "content_block", "delta",
// or "" for none), validating it on the way, and reports false wherever
// it is not sure to agree (the caller then asks encoding/json).
func fastFrame(data []byte, h *frameHead, inner string, buf *[]byte) bool {
	if buf != nil {
		*buf = (*buf)[:0]
	}
	end := objectMembers(data, skipSpace(data, 0), 0, func(key []byte, vs int) int {
		switch {
		case !plainKey(key):
			return -1
		case string(key) == "index":
			ve := validValue(data, vs, 1)
			if ve < 0 || !readInt(data[vs:ve], &h.index) {
				return -1
			}
			return ve
		case inner != "" && string(key) == inner:
			return readInner(data, vs, h, buf)
		case asciiFold(key, "index") || inner != "" && asciiFold(key, inner):
			return -1 // a key json matches case-insensitively
		}
		return validValue(data, vs, 1)
	})
	return end >= 0 && skipSpace(data, end) == len(data)
}

// objectMembers walks the object at b[i], validating its syntax; fn reads or
// skips each value (given the key's raw content and where the value
// starts) and returns where the value ends, -1 to give up. objectMembers
// returns where the object ends, or -1.
func objectMembers(b []byte, i, depth int, fn func(key []byte, vs int) int) int {
	if i >= len(b) || b[i] != '{' || depth > 64 {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		ke := validString(b, i)
		if ke < 0 {
			return -1
		}
		key := b[i+1 : ke-1]
		if i = skipSpace(b, ke); i >= len(b) || b[i] != ':' {
			return -1
		}
		if i = fn(key, skipSpace(b, i+1)); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i < len(b) && b[i] == '}' {
			return i + 1
		}
		if i >= len(b) || b[i] != ',' {
			return -1
		}
		i = skipSpace(b, i+1)
	}
}

// readInner reads the content_block or delta object at data[vs]; it
// returns where it ends, or -1.
func readInner(data []byte, vs int, h *frameHead, buf *[]byte) int {
	if ve := literal(data, vs, "null"); ve >= 0 {
		return ve // json leaves a struct as it was
	}
	delta := buf != nil
	return objectMembers(data, vs, 1, func(key []byte, vs int) int {
		ve := validValue(data, vs, 2)
		if ve < 0 || !plainKey(key) {
			return -1
		}
		v := data[vs:ve]
		ok := true
		switch {
		case string(key) == "type":
			if string(v) != "null" {
				h.typ, ok = plainString(v)
			}
		case delta && string(key) == "text":
			h.text, h.hasText, ok = readText(v, buf)
		case delta && string(key) == "partial_json":
			h.partial, h.hasPartial, ok = readText(v, buf)
		case asciiFold(key, "type") || delta && (asciiFold(key, "text") || asciiFold(key, "partial_json")):
			ok = false
		}
		if !ok {
			return -1
		}
		return ve
	})
}

// readText reads a *string member: null is nil; a string is decoded,
// into *buf when it has escapes.
func readText(v []byte, buf *[]byte) (text []byte, has, ok bool) {
	if string(v) == "null" {
		return nil, false, true
	}
	if len(v) < 2 || v[0] != '"' {
		return nil, false, false
	}
	in := v[1 : len(v)-1]
	if !utf8.Valid(in) {
		return nil, false, false // json puts U+FFFD for each bad byte: its business
	}
	if bytes.IndexByte(in, '\\') < 0 {
		return in, true, true
	}
	start := len(*buf)
	out, ok := unescape(*buf, in)
	if !ok {
		return nil, false, false
	}
	*buf = out
	return out[start:len(out):len(out)], true, true
}

// unescape appends the decoded content of a valid JSON string to dst; ok
// is false for a surrogate escape (json's pairing rules are its own).
func unescape(dst, in []byte) ([]byte, bool) {
	for len(in) > 0 {
		k := bytes.IndexByte(in, '\\')
		if k < 0 {
			return append(dst, in...), true
		}
		dst = append(dst, in[:k]...)
		if c := simpleEscape[in[k+1]]; c != 0 {
			dst = append(dst, c)
			in = in[k+2:]
			continue
		}
		// \u: the string is valid, so nothing else follows a backslash.
		u, _ := hex4(in[k+2:])
		if utf16.IsSurrogate(rune(u)) {
			return dst, false
		}
		dst = utf8.AppendRune(dst, rune(u))
		in = in[k+6:]
	}
	return dst, true
}

// plainString is a JSON string's content when it decodes to itself: no
// escapes, valid UTF-8 (json replaces invalid bytes).
func plainString(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') >= 0 || !utf8.Valid(in) {
		return nil, false
	}
	return in, true
}

// readInt reads an int member as json does when it is a plain integer
// (or null, which leaves it); anything else is not for the fast path.
func readInt(v []byte, n *int) bool {
	if string(v) == "null" {
		return true
	}
	d := v
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 || len(d) > 1 && d[0] == '0' {
		return false // 19 digits may overflow: json's business
	}
	x := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
		x = x*10 + int(c-'0')
	}
	if v[0] == '-' {
		x = -x
	}
	*n = x
	return true
}

// plainKey: a key json compares as it is written (no escapes, ASCII,
// so its case folding is ASCII's).
func plainKey(k []byte) bool {
	for _, c := range k {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiFold: k equals name ignoring ASCII case.
func asciiFold(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := range len(k) {
		a, b := k[i], name[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// validValue returns the end of the value at b[i], or -1.
func validValue(b []byte, i, depth int) int {
	if i >= len(b) || depth > 64 {
		return -1
	}
	switch c := b[i]; {
	case c == '{':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			if i = validString(b, i); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = validValue(b, skipSpace(b, i+1), depth+1); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i < len(b) && b[i] == '}' {
				return i + 1
			}
			if i >= len(b) || b[i] != ',' {
				return -1
			}
			i = skipSpace(b, i+1)
		}
	case c == '[':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = validValue(b, i, depth+1); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i < len(b) && b[i] == ']' {
				return i + 1
			}
			if i >= len(b) || b[i] != ',' {
				return -1
			}
			i = skipSpace(b, i+1)
		}
	case c == '"':
		return validString(b, i)
	case c == '-' || '0' <= c && c <= '9':
		return validNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return -1
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// validString: control bytes are invalid, escapes must be JSON's; any
// other byte, invalid UTF-8 included, is accepted (as json does).
func validString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hex4(b[i+1:]); !ok {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func validNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

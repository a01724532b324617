package filter

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// folded is text as keywords are matched against it: NFKC-normalised (so
// full-width ＡＢＣ and half-width ABC, compatibility ideographs and
// ligatures read the same) and lower-cased, with a map back to the
// original bytes.
type folded struct {
	b []byte
	// src[k] is the offset in the original text of the normalisation
	// segment that produced b[k]; src[len(b)] is the original's length.
	src []int32
}

// fold normalises text. ASCII runs (most of any request) are lower-cased
// byte by byte; anything else goes through NFKC one segment at a time, so
// each output byte still knows where it came from.
func fold(text []byte, f *folded) {
	f.b = f.b[:0]
	f.src = f.src[:0]
	var seg [utf8.UTFMax * 4]byte
	var nb []byte
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf && (i+1 == len(text) || text[i+1] < utf8.RuneSelf) {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			f.b = append(f.b, c)
			f.src = append(f.src, int32(i))
			i++
			continue
		}
		// One normalisation segment at a time (norm.Iter would do this,
		// but it panics on some long runs of non-starters, e.g. "ﴴｅ").
		n := norm.NFKC.NextBoundary(text[i:], true)
		if n <= 0 { // never expected; keeps the loop finite
			n = 1
		}
		nb = norm.NFKC.Append(nb[:0], text[i:i+n]...)
		out := nb
		start := len(f.b)
		for len(out) > 0 {
			r, size := utf8.DecodeRune(out)
			if r == utf8.RuneError && size <= 1 {
				f.b = append(f.b, out[0])
				out = out[1:]
				continue
			}
			lr := unicode.ToLower(r)
			if lr == r {
				f.b = append(f.b, out[:size]...)
			} else {
				f.b = append(f.b, seg[:utf8.EncodeRune(seg[:], lr)]...)
			}
			out = out[size:]
		}
		for range len(f.b) - start {
			f.src = append(f.src, int32(i))
		}
		i += n
	}
	f.src = append(f.src, int32(len(text)))
}

// span maps a match [s, e) in the folded text to the original bytes,
// widened to whole normalisation segments.
func (f *folded) span(s, e int) (int, int) {
	start := int(f.src[s])
	k := e
	for k < len(f.b) && e > 0 && f.src[k] == f.src[e-1] {
		k++
	}
	return start, int(f.src[k])
}

// keyFold is a keyword as it is matched.
func keyFold(s string) string {
	var f folded
	fold([]byte(s), &f)
	return string(f.b)
}

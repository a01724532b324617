package reqkey

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// The first version's string scanner, frozen: the differential tests
// below hold the current one to it, byte for byte.

// nextSpecialV1 returns the index of the first byte from src[i] that
// special would flag, or len(src).
func nextSpecialV1(src []byte, i int) int {
	for ; i+8 <= len(src); i += 8 {
		if m := special(binary.LittleEndian.Uint64(src[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(src); i++ {
		if b := src[i]; b == '"' || b == '\\' || b < 0x20 || b >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

// strV1 writes the string starting at c.src[i] == '"' in its canonical
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
func (c *canon) strV1(i int) int {
	src := c.src
	j := i + 1
	for {
		if j = nextSpecialV1(src, j); j >= len(src) {
			return -1
		}
		switch b := src[j]; {
		case b == '"':
			c.out = append(c.out, src[i:j+1]...)
			return j + 1
		case b < 0x20:
			return -1
		case b == '\\':
			if j+1 < len(src) && shortEscape[src[j+1]] {
				j += 2
				continue
			}
			if canonicalU(src, j) {
				j += 6
				continue
			}
			return c.respell(i)
		default:
			for j < len(src) && src[j] >= utf8.RuneSelf {
				r, size := utf8.DecodeRune(src[j:])
				if r == utf8.RuneError && size == 1 {
					return c.respell(i)
				}
				j += size
			}
		}
	}
}

// sameStr reports whether str and strV1 agree on the string at src[0].
func sameStr(src []byte) (bool, string) {
	var a, b canon
	a.src, b.src = src, src
	a.out = append(a.out, 'X')
	b.out = append(b.out, 'X')
	ia, ib := a.str(0), b.strV1(0)
	if ia != ib || (ia >= 0 && !bytes.Equal(a.out, b.out)) {
		return false, "new " + string(a.out) + " / first " + string(b.out)
	}
	return true, ""
}

// FuzzStrUnchanged: the string scanner gives what the first version gave
// (the same end, and for a valid string the same canonical spelling).
func FuzzStrUnchanged(f *testing.F) {
	for _, p := range strPieces {
		f.Add([]byte(p + `"`))
	}
	f.Add([]byte(`abcdefgh\n\t\"\\12345678世界😀"tail`))
	f.Fuzz(func(t *testing.T, s []byte) {
		src := append([]byte{'"'}, s...)
		if ok, why := sameStr(src); !ok {
			t.Fatalf("%q: %s", src, why)
		}
	})
}

// TestStrUnchanged runs the comparison over many random strings (pieces
// at every alignment against the 8-byte words) without the fuzzer.
func TestStrUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2026))
	for range 100_000 {
		var sb strings.Builder
		sb.WriteString(strings.Repeat("p", rng.IntN(9)))
		randomString(rng, &sb)
		src := []byte(sb.String())
		at := strings.IndexByte(sb.String(), '"')
		if rng.IntN(5) == 0 { // cut short: no closing quote
			src = src[:at+1+rng.IntN(len(src)-at)]
		}
		if ok, why := sameStr(src[at:]); !ok {
			t.Fatalf("%q: %s", src[at:], why)
		}
	}
}

package settings

import (
	"testing"
)

// Whatever text a person types, parsing never panics, and a value's
// canonical form reads back as the same value (so `get` then `set` is a
// no-op).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"on", "off", "42", "-7", "90s", "1h30m", "90d", "1.5d", "256MB", "1GiB", "1.5KiB",
		"5", "0.50", "$12.125", "0.000001", "zh-CN", "", " ", "1e9", "NaNd", "9223372036854775807", "99999999999999TiB"} {
		f.Add(s)
	}
	types := []Type{Bool, Integer, Duration, Size, Money, String, Enum}
	f.Fuzz(func(t *testing.T, text string) {
		for _, typ := range types {
			v, ok := parse(typ, text)
			if !ok {
				continue
			}
			again, ok := parse(typ, v.String())
			if !ok || again != v {
				t.Fatalf("%s %q → %q (%d) → %+v, %v", typ, text, v.String(), v.n, again, ok)
			}
			if (typ == Duration || typ == Size || typ == Money) && v.n < 0 {
				t.Fatalf("%s %q is negative: %d", typ, text, v.n)
			}
		}
	})
}

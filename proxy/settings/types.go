package settings

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type is a knob's kind of value.
type Type string

const (
	Bool     Type = "bool"     // on | off
	Integer  Type = "integer"  // decimal int64
	Duration Type = "duration" // Go duration or days: 90s, 10m, 1h, 90d
	Size     Type = "size"     // bytes, or with a unit: 256MB, 1GiB
	Money    Type = "money"    // decimal US dollars: 5, 0.50
	Enum     Type = "enum"     // one of Knob.Values
	String   Type = "string"   // one line of text, at most MaxStringLen bytes
)

// MaxStringLen bounds a string knob's value: a knob is one line, not a
// document.
const MaxStringLen = 512

// Value is a parsed, valid value of a knob. Its String is the canonical
// text form, the one stored and printed by `ferry config get`.
type Value struct {
	typ  Type
	text string
	n    int64 // integer; duration in ns; size in bytes; money in micro-dollars; bool 1/0
}

// String is the canonical text form.
func (v Value) String() string { return v.text }

// Type is the knob's type.
func (v Value) Type() Type { return v.typ }

// Bool is a bool knob's value.
func (v Value) Bool() bool { return v.typ == Bool && v.n == 1 }

// Int is an integer knob's value (and a size's byte count).
func (v Value) Int() int64 { return v.n }

// Duration is a duration knob's value.
func (v Value) Duration() time.Duration { return time.Duration(v.n) }

// Bytes is a size knob's value.
func (v Value) Bytes() int64 { return v.n }

// MicroUSD is a money knob's value in millionths of a dollar: exact, for
// sums and comparisons.
func (v Value) MicroUSD() int64 { return v.n }

// USD is a money knob's value in dollars.
func (v Value) USD() float64 { return float64(v.n) / 1e6 }

// parse reads text as a value of type t (no range or enum check).
func parse(t Type, text string) (Value, bool) {
	text = strings.TrimSpace(text)
	switch t {
	case Bool:
		switch strings.ToLower(text) {
		case "on", "true", "yes", "1":
			return Value{typ: t, text: "on", n: 1}, true
		case "off", "false", "no", "0":
			return Value{typ: t, text: "off"}, true
		}
	case Integer:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return Value{typ: t, text: strconv.FormatInt(n, 10), n: n}, true
		}
	case Duration:
		if d, ok := parseDuration(text); ok {
			return Value{typ: t, text: formatDuration(d), n: int64(d)}, true
		}
	case Size:
		if n, ok := parseSize(text); ok {
			return Value{typ: t, text: formatSize(n), n: n}, true
		}
	case Money:
		if n, ok := parseMoney(text); ok {
			return Value{typ: t, text: formatMoney(n), n: n}, true
		}
	case String, Enum:
		if len(text) <= MaxStringLen && utf8.ValidString(text) && !strings.ContainsFunc(text, unicode.IsControl) {
			return Value{typ: t, text: text}, true
		}
	}
	return Value{}, false
}

const day = 24 * time.Hour

// maxNumberLen bounds the digits of a size or an amount: 19 for an int64's
// integer part, 6 decimals, and room for leading zeros.
const maxNumberLen = 40

// parseDuration takes a Go duration ("90s", "1h30m") or days ("90d",
// "1.5d"). Negative durations are refused: no knob has a use for them.
func parseDuration(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseFloat(n, 64)
		if err != nil || days < 0 || math.IsInf(days, 0) || math.IsNaN(days) || days > float64(math.MaxInt64)/float64(day) {
			return 0, false
		}
		return time.Duration(days * float64(day)), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

// formatDuration writes whole days as days (90d) and anything else as Go
// does without its zero tails ("1h", not "1h0m0s").
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// sizeUnits, largest first: formatSize picks the first that divides the
// value exactly. KB/MB/GB/TB are powers of 1000, KiB… powers of 1024.
var sizeUnits = []struct {
	name string
	n    int64
}{
	{"TiB", 1 << 40}, {"TB", 1e12}, {"GiB", 1 << 30}, {"GB", 1e9},
	{"MiB", 1 << 20}, {"MB", 1e6}, {"KiB", 1 << 10}, {"KB", 1e3},
}

func parseSize(s string) (int64, bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	mult := int64(0)
	switch u := strings.ToLower(unit); u {
	case "", "b":
		mult = 1
	case "k":
		mult = 1e3
	case "m":
		mult = 1e6
	case "g":
		mult = 1e9
	case "t":
		mult = 1e12
	default:
		for _, su := range sizeUnits {
			if strings.EqualFold(su.name, u) {
				mult = su.n
			}
		}
	}
	if mult == 0 || num == "" {
		return 0, false
	}
	return exactTimes(num, mult)
}

// exactTimes is the decimal num times mult, when that is a whole number
// that fits an int64.
func exactTimes(num string, mult int64) (int64, bool) {
	// big.Rat would take exponents and fractions; and a number of thousands
	// of digits costs it seconds (found by FuzzParse), while an int64 has 19.
	if strings.ContainsAny(num, "eE/+-pPxX") || len(num) > maxNumberLen {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok || r.Sign() < 0 {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

func formatSize(n int64) string {
	for _, u := range sizeUnits {
		if n >= u.n && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// parseMoney reads decimal US dollars ("5", "0.50", "$12.5"), at most six
// decimals (a millionth of a dollar, finer than any price per token).
func parseMoney(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "$"))
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return 0, false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return 0, false
		}
	}
	return exactTimes(s, 1e6)
}

// formatMoney writes cents always and finer digits only when there are any:
// 5 → "5.00", 0.125 → "0.125".
func formatMoney(micro int64) string {
	frac := fmt.Sprintf("%06d", micro%1e6)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return strconv.FormatInt(micro/1e6, 10) + "." + frac
}

package reqkey

import (
	"math/big"
	"strconv"
)

// appendNumber appends the canonical form of the JSON number with the
// given sign, integer digits, fraction digits and exponent digits (no
// sign): 'n', a '-' for a negative non-zero value, the significant digits
// without leading or trailing zeros, 'e', the exponent in decimal, ';'.
// Zero, with any sign or spelling, is "n0;". Two numbers get the same form
// exactly when their decimal values are equal: 1, 1.0, 10e-1 and 0.1E1 are
// one number, as are -0 and 0.
func appendNumber(out []byte, neg bool, intDigits, fracDigits, exp []byte, expNeg bool) []byte {
	// The digit string is intDigits then fracDigits; find its significant
	// part without building it.
	n := len(intDigits) + len(fracDigits)
	at := func(k int) byte {
		if k < len(intDigits) {
			return intDigits[k]
		}
		return fracDigits[k-len(intDigits)]
	}
	first := 0
	for first < n && at(first) == '0' {
		first++
	}
	if first == n {
		return append(out, 'n', '0', ';')
	}
	last := n - 1
	for at(last) == '0' {
		last--
	}
	out = append(out, 'n')
	if neg {
		out = append(out, '-')
	}
	for k := first; k <= last; k++ {
		out = append(out, at(k))
	}
	out = append(out, 'e')
	// value = 0.digits… × 10^e, written as digits × 10^shift: the
	// exponent moves by the fraction's length and the trailing zeros cut.
	shift := int64(n-1-last) - int64(len(fracDigits))
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	if len(exp) <= 17 {
		var e int64 // at most 17 digits: no overflow
		for _, d := range exp {
			e = e*10 + int64(d-'0')
		}
		if expNeg {
			e = -e
		}
		out = strconv.AppendInt(out, e+shift, 10)
	} else {
		// An exponent no float could hold is still an exact decimal value;
		// big arithmetic keeps it exact rather than saturating into a
		// false equality.
		e, _ := new(big.Int).SetString(string(exp), 10)
		if expNeg {
			e.Neg(e)
		}
		e.Add(e, big.NewInt(shift))
		out = e.Append(out, 10)
	}
	return append(out, ';')
}

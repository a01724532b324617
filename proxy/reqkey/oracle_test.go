package reqkey

import (
	"bytes"
	"encoding/json"
	"math/big"
	"strings"
)

// The reference the canonicaliser is checked against: encoding/json with
// UseNumber, numbers compared by exact value (big.Rat), the billing block
// removed from the top-level system array.

// oracleDecode decodes a valid document; ok is false for an invalid one.
func oracleDecode(b []byte) (v any, ok bool) {
	if !json.Valid(b) {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if top, isObj := v.(map[string]any); isObj {
		if sys, isArr := top["system"].([]any); isArr {
			kept := []any{}
			for _, e := range sys {
				if m, isM := e.(map[string]any); isM {
					typ, _ := m["type"].(string)
					text, _ := m["text"].(string)
					if typ == "text" && strings.HasPrefix(text, billingPrefix) {
						continue
					}
				}
				kept = append(kept, e)
			}
			top["system"] = kept
		}
	}
	return v, true
}

// oracleEqual compares decoded values; comparable is false when a number's
// exponent is too large for big.Rat to hold in reasonable time.
func oracleEqual(a, b any) (equal, comparable bool) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false, oracleTame(a) && oracleTame(b)
		}
		eq, cmp := true, true
		for k, xv := range x {
			yv, ok := y[k]
			if !ok {
				eq = false
				cmp = cmp && oracleTame(xv)
				continue
			}
			e, c := oracleEqual(xv, yv)
			eq, cmp = eq && e, cmp && c
		}
		return eq, cmp
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false, oracleTame(a) && oracleTame(b)
		}
		eq, cmp := true, true
		for k := range x {
			e, c := oracleEqual(x[k], y[k])
			eq, cmp = eq && e, cmp && c
		}
		return eq, cmp
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false, oracleTame(a) && oracleTame(b)
		}
		if !oracleTame(x) || !oracleTame(y) {
			return false, false
		}
		rx, _ := new(big.Rat).SetString(string(x))
		ry, _ := new(big.Rat).SetString(string(y))
		return rx.Cmp(ry) == 0, true
	default:
		return a == b, oracleTame(b)
	}
}

// oracleTame reports whether every number in v has an exponent big.Rat
// handles quickly.
func oracleTame(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if !oracleTame(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !oracleTame(e) {
				return false
			}
		}
	case json.Number:
		s := strings.ToLower(string(x))
		if i := strings.IndexByte(s, 'e'); i >= 0 {
			exp := strings.TrimLeft(s[i+1:], "+-0")
			return len(exp) <= 4
		}
	}
	return true
}

// Package jsonscan finds top-level members of a JSON object without
// decoding it: Ferry reads a model name, a stream flag or a usage object out
// of bodies it forwards unchanged, on the request's path, where
// encoding/json's full decode (and its allocations) would cost more than the
// rest of the proxy. It never validates values: a malformed body just
// yields fewer members (and Members says that it was malformed).
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// TailMembers calls fn with the trailing members of the JSON object in b,
// last first, for as long as their values are strings or scalars (walking
// back over a nested value would need the whole body anyway). It stops
// quietly at anything else.
func TailMembers(b []byte, fn func(key, val []byte) bool) {
	j := skipWSBack(b, len(b)-1)
	if j < 0 || b[j] != '}' {
		return
	}
	j--
	for {
		j = skipWSBack(b, j)
		if j < 0 {
			return
		}
		var vs int
		switch b[j] {
		case '"':
			if vs = stringStartBack(b, j); vs < 0 {
				return
			}
		case '}', ']', '{', '[', ',', ':':
			return
		default:
			vs = j
			for vs > 0 && !scalarEnd[b[vs-1]] {
				vs--
			}
		}
		val := b[vs : j+1]
		k := skipWSBack(b, vs-1)
		if k < 0 || b[k] != ':' {
			return
		}
		k = skipWSBack(b, k-1)
		if k < 0 || b[k] != '"' {
			return
		}
		ks := stringStartBack(b, k)
		if ks < 0 {
			return
		}
		if !fn(b[ks+1:k], val) {
			return
		}
		k = skipWSBack(b, ks-1)
		if k < 0 || b[k] != ',' {
			return
		}
		j = k - 1
	}
}

// scalarEnd marks the bytes that can precede a scalar value.
var scalarEnd = [256]bool{':': true, ',': true, ' ': true, '\t': true, '\n': true, '\r': true, '[': true, '{': true}

func skipWSBack(b []byte, i int) int {
	for i >= 0 && i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i--
	}
	if i >= len(b) {
		return -1
	}
	return i
}

// stringStartBack returns the index of the opening quote of the string
// whose closing quote is b[end], or -1. Inside a JSON string a quote is
// always escaped, so the opening quote is the first one before end that
// follows an even number of backslashes.
func stringStartBack(b []byte, end int) int {
	for k := end - 1; k >= 0; k-- {
		k = bytes.LastIndexByte(b[:k+1], '"')
		if k < 0 {
			return -1
		}
		bs := 0
		for m := k - 1; m >= 0 && b[m] == '\\'; m-- {
			bs++
		}
		if bs%2 == 0 {
			return k
		}
	}
	return -1
}

// TopLevel calls fn with each key of the JSON object in b and its value's
// raw bytes, in order, until fn returns false. It stops quietly at the first
// malformed byte: the body is forwarded as is whatever this finds.
func TopLevel(b []byte, fn func(key, val []byte) bool) {
	walk(b, fn)
}

// ErrMalformed: Members found no well-formed object where it looked.
var ErrMalformed = errors.New("malformed JSON object")

// Members is TopLevel for a caller that must not take a truncated or
// malformed object for a smaller one (a usage object missing its last
// member is not a usage object): it returns fn's first error, or
// ErrMalformed unless b is one object, closed, with only whitespace around
// it. Member values are delimited but, as everywhere here, not validated.
func Members(b []byte, fn func(key, val []byte) error) error {
	var err error
	whole := walk(b, func(key, val []byte) bool {
		err = fn(key, val)
		return err == nil
	})
	switch {
	case err != nil:
		return err
	case !whole:
		return ErrMalformed
	}
	return nil
}

// walk is TopLevel reporting whether it reached the object's closing brace
// with nothing but whitespace after it.
func walk(b []byte, fn func(key, val []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		ke := skipString(b, i)
		if ke < 0 {
			return false
		}
		key := b[i+1 : ke-1]
		i = skipWS(b, ke)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		ve := skipValue(b, i)
		if ve < 0 {
			return false
		}
		if !fn(key, b[i:ve]) {
			return false
		}
		i = skipWS(b, ve)
		if i < len(b) && b[i] == '}' {
			return skipWS(b, i+1) == len(b)
		}
		if i >= len(b) || b[i] != ',' {
			return false
		}
		i = skipWS(b, i+1)
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// or -1. Strings are most of a request's bytes; short ones (keys, schema
// words) are cheaper to walk than to hand to IndexByte. In a long one,
// each quote IndexByte finds is the end unless an odd run of backslashes
// escapes it: code in tool results is full of \" and \n, and walking
// such a string byte by byte (or searching it again from every escape)
// cost more than the rest of a request's filtering.
func skipString(b []byte, i int) int {
	j := i + 1
	end := min(j+16, len(b))
	for ; j < end; j++ {
		switch b[j] {
		case '"':
			return j + 1
		case '\\':
			j++
		}
	}
	if j > len(b) {
		return -1
	}
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		bs := 0
		for m := q - 1; m > i && b[m] == '\\'; m-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// structural marks the bytes skipValue must look at inside a compound
// value; everything else is skipped by a table lookup.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// skipValue returns the index after the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			c := b[j]
			if !structural[c] {
				continue
			}
			switch c {
			case '"':
				j = skipString(b, j)
				if j < 0 {
					return -1
				}
				j-- // the loop steps past the closing quote
			case '{', '[':
				depth++
			default:
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\n', '\r', '\t':
				if j == i {
					return -1
				}
				return j
			}
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// String decodes a raw JSON string value; "" when it is not one.
func String(val []byte) string {
	if len(val) < 2 || val[0] != '"' {
		return ""
	}
	if inner := val[1 : len(val)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if json.Unmarshal(val, &s) != nil {
		return ""
	}
	return s
}

// Field returns the raw value of a top-level key, or nil.
func Field(b []byte, name string) []byte {
	var out []byte
	TopLevel(b, func(key, val []byte) bool {
		if string(key) == name {
			out = val
			return false
		}
		return true
	})
	return out
}

// Int returns a top-level integer field, and whether there was one.
func Int(b []byte, name string) (int, bool) {
	v := Field(b, name)
	if v == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

// Elements calls fn with the raw bytes of each element of the JSON array
// in b, in order, until fn returns false. It reports whether it reached
// the array's closing bracket with nothing but whitespace after it; a
// malformed array stops it there. Elements are delimited, not validated.
func Elements(b []byte, fn func(val []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return skipWS(b, i+1) == len(b)
	}
	for {
		ve := skipValue(b, i)
		if ve < 0 {
			return false
		}
		if !fn(b[i:ve]) {
			return false
		}
		i = skipWS(b, ve)
		if i < len(b) && b[i] == ']' {
			return skipWS(b, i+1) == len(b)
		}
		if i >= len(b) || b[i] != ',' {
			return false
		}
		i = skipWS(b, i+1)
	}
}

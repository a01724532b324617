package settings

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/assets/i18n"
)

func TestParseCanonicalForms(t *testing.T) {
	cases := []struct {
		typ   Type
		in    string
		canon string
		n     int64
	}{
		{Bool, "on", "on", 1},
		{Bool, "OFF", "off", 0},
		{Bool, "true", "on", 1},
		{Bool, "false", "off", 0},
		{Bool, " yes ", "on", 1},
		{Integer, "42", "42", 42},
		{Integer, "-7", "-7", -7},
		{Integer, "007", "7", 7},
		{Duration, "90s", "1m30s", int64(90 * time.Second)},
		{Duration, "10m", "10m", int64(10 * time.Minute)},
		{Duration, "1h", "1h", int64(time.Hour)},
		{Duration, "60m", "1h", int64(time.Hour)},
		{Duration, "1h30m", "1h30m", int64(90 * time.Minute)},
		{Duration, "90d", "90d", int64(90 * 24 * time.Hour)},
		{Duration, "2160h0m0s", "90d", int64(90 * 24 * time.Hour)}, // the stored form before the registry
		{Duration, "1.5d", "36h", int64(36 * time.Hour)},
		{Duration, "0", "0s", 0},
		{Duration, "0d", "0s", 0},
		{Duration, "1500ms", "1.5s", int64(1500 * time.Millisecond)},
		{Duration, "25h", "25h", int64(25 * time.Hour)},
		{Size, "1024", "1KiB", 1024},
		{Size, "1000", "1KB", 1000},
		{Size, "1500", "1500B", 1500},
		{Size, "256MB", "256MB", 256e6},
		{Size, "256mb", "256MB", 256e6},
		{Size, "1GiB", "1GiB", 1 << 30},
		{Size, "1.5GiB", "1536MiB", 3 << 29},
		{Size, "33554432", "32MiB", 32 << 20},
		{Size, "0", "0B", 0},
		{Size, "2 MiB", "2MiB", 2 << 20},
		{Size, "1k", "1KB", 1000},
		{Money, "5", "5.00", 5e6},
		{Money, "0.50", "0.50", 5e5},
		{Money, "0.5", "0.50", 5e5},
		{Money, "$12.125", "12.125", 12125000},
		{Money, "0.000001", "0.000001", 1},
		{Money, "0", "0.00", 0},
		{String, "  127.0.0.1:7856 ", "127.0.0.1:7856", 0},
		{String, "中文", "中文", 0},
	}
	for _, c := range cases {
		t.Run(string(c.typ)+"/"+c.in, func(t *testing.T) {
			v, ok := parse(c.typ, c.in)
			if !ok {
				t.Fatalf("parse(%s, %q) refused", c.typ, c.in)
			}
			if v.String() != c.canon || v.n != c.n {
				t.Fatalf("parse(%s, %q) = %q (%d), want %q (%d)", c.typ, c.in, v.String(), v.n, c.canon, c.n)
			}
			// The canonical form reads back as itself.
			again, ok := parse(c.typ, v.String())
			if !ok || again != v {
				t.Fatalf("canonical %q reads back as %+v", v.String(), again)
			}
		})
	}
}

func TestParseRefusesBadText(t *testing.T) {
	cases := []struct {
		typ Type
		in  string
	}{
		{Bool, "maybe"}, {Bool, ""}, {Bool, "2"},
		{Integer, "1.5"}, {Integer, "ten"}, {Integer, "99999999999999999999"}, {Integer, ""},
		{Duration, "-1h"}, {Duration, "5"}, {Duration, "d"}, {Duration, "-3d"}, {Duration, "1y"},
		{Duration, "1e400d"}, {Duration, "NaNd"}, {Duration, "infd"}, {Duration, "200000000d"},
		{Size, "-1"}, {Size, "1.5"}, {Size, "12XB"}, {Size, "MB"}, {Size, "1e9"}, {Size, "10000000TiB"}, {Size, "1/2"},
		{Money, "-5"}, {Money, "5.0000001"}, {Money, "five"}, {Money, "1e3"}, {Money, "."}, {Money, "5."}, {Money, ".5"}, {Money, "1,000"},
		{Size, strings.Repeat("1", 100000)}, {Money, "1." + strings.Repeat("0", 100000)}, // bounded before big.Rat
		{String, strings.Repeat("x", MaxStringLen+1)}, {String, "two\nlines"}, {String, "bad\xffutf8"},
	}
	for _, c := range cases {
		if v, ok := parse(c.typ, c.in); ok {
			t.Errorf("parse(%s, %q) = %q, want refused", c.typ, c.in, v)
		}
	}
}

func TestKnobParseRangesAndEnums(t *testing.T) {
	attempts := Knob{Key: "retry.max_attempts", Owner: "t", Type: Integer, Default: "3", Min: "1", Max: "10", Help: "h", Applies: Now}
	ttl := Knob{Key: "cache.ttl", Owner: "t", Type: Duration, Default: "1h", Min: "1m", Max: "30d", Help: "h", Applies: Now}
	size := Knob{Key: "cache.max_size", Owner: "t", Type: Size, Default: "256MB", Max: "1GiB", Help: "h", Applies: Now}
	budget := Knob{Key: "budget.daily", Owner: "t", Type: Money, Default: "5", Min: "0.01", Help: "h", Applies: Now}
	lang := Knob{Key: "ui.language", Owner: "t", Type: Enum, Default: "system", Values: []string{"system", "en", "zh-CN"}, Help: "h", Applies: WindowRestart}
	even := Knob{Key: "t.even", Owner: "t", Type: Integer, Default: "2", Help: "h", Applies: Now,
		Check: func(v Value) bool { return v.Int()%2 == 0 }, Allowed: "an even integer"}
	cases := []struct {
		k     Knob
		in    string
		want  string // canonical; "" = refused
		allow string // in the error
	}{
		{attempts, "1", "1", ""}, {attempts, "10", "10", ""},
		{attempts, "0", "", "an integer, from 1 to 10"}, {attempts, "11", "", "from 1 to 10"},
		{ttl, "1m", "1m", ""}, {ttl, "30d", "30d", ""}, {ttl, "59s", "", "from 1m to 30d"}, {ttl, "31d", "", "such as 90s"},
		{size, "1GiB", "1GiB", ""}, {size, "1025MiB", "", "at most 1GiB"},
		{budget, "0.01", "0.01", ""}, {budget, "0.009", "", "at least 0.01"},
		{lang, "ZH-cn", "zh-CN", ""}, {lang, "fr", "", "one of system, en, zh-CN"},
		{even, "4", "4", ""}, {even, "3", "", "an even integer"},
	}
	for _, c := range cases {
		v, err := c.k.Parse(c.in)
		if c.want != "" {
			if err != nil || v.String() != c.want {
				t.Errorf("%s %q = %q, %v; want %q", c.k.Key, c.in, v, err, c.want)
			}
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s %q: err %v, want a ValueError", c.k.Key, c.in, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.allow) || !strings.Contains(msg, c.k.Key) || strings.Contains(msg, "\n") {
			t.Errorf("%s %q: error %q should be one line naming %q", c.k.Key, c.in, msg, c.allow)
		}
		// And in Chinese.
		zh := ve.Message(i18n.Chinese)
		if zh == msg || !strings.Contains(zh, c.k.Key) {
			t.Errorf("%s %q: Chinese error %q", c.k.Key, c.in, zh)
		}
	}
}

func TestKnobDefinitionsChecked(t *testing.T) {
	good := Knob{Key: "a.b", Owner: "o", Type: Integer, Default: "1", Help: "h", Applies: Now}
	bad := map[string]func(k *Knob){
		"key without dot":     func(k *Knob) { k.Key = "ab" },
		"upper-case key":      func(k *Knob) { k.Key = "A.b" },
		"empty segment":       func(k *Knob) { k.Key = "a..b" },
		"no owner":            func(k *Knob) { k.Owner = "" },
		"no help":             func(k *Knob) { k.Help = "" },
		"bad applies":         func(k *Knob) { k.Applies = "later" },
		"bad type":            func(k *Knob) { k.Type = "float" },
		"enum without values": func(k *Knob) { k.Type = Enum },
		"values on integer":   func(k *Knob) { k.Values = []string{"x"} },
		"bad bound":           func(k *Knob) { k.Min = "one" },
		"bound on bool":       func(k *Knob) { k.Type, k.Default, k.Min = Bool, "on", "1" },
		"default out of range": func(k *Knob) {
			k.Min = "5"
		},
		"default not a value": func(k *Knob) { k.Default = "x" },
	}
	if err := good.validate(); err != nil {
		t.Fatalf("good knob: %v", err)
	}
	for name, f := range bad {
		k := good
		f(&k)
		if err := k.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

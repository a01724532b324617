package settings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-gateway/ferry/assets/i18n"
)

// Applies says when a changed value takes effect.
type Applies string

const (
	Now           Applies = "now"            // the owner applies it at once (a watcher)
	NextStart     Applies = "next start"     // read once when Ferry starts (the listen address)
	WindowRestart Applies = "window restart" // read when the windows start (the language)
)

// Knob describes one setting. Help and Allowed are English texts that are
// also keys of assets/i18n, which holds their Chinese.
type Knob struct {
	Key     string // dotted, lower case: "history.retention"
	Owner   string // the package that applies it: "proxy/app", "ui"
	Type    Type
	Default string // text form; must be valid
	// Min and Max bound an integer, duration, size or money knob (text
	// forms); "" is no bound. Durations, sizes and money are never negative.
	Min, Max string
	Values   []string // an enum's values, canonical spelling
	Help     string   // one line: what the knob does
	// Allowed describes the allowed values when Check adds a rule the type
	// and range do not say; "" generates the description.
	Allowed string
	Applies Applies
	// Check is an extra rule on a value that passed the type, range and
	// enum checks (a listen address must be loopback); nil accepts it.
	Check func(Value) bool
	// CheckStored is a rule for a value kept in the settings bucket (Set)
	// but not for one run's override: a listen address on the network is
	// allowed for a run started with --allow-remote, never stored.
	CheckStored func(Value) bool
	// Flag is the `ferry serve` flag that overrides the knob for one run,
	// without the dashes ("retention"); its variable is FERRY_RETENTION.
	// "" when there is none.
	Flag string
	// Legacy is the settings key the value was stored under before the
	// registry, with its old JSON form (a string or a bool); Register moves
	// it to Key once.
	Legacy string
}

// Parse validates text as a value of k: its type, range, enum values and
// Check. The error is a *ValueError naming the allowed values.
func (k Knob) Parse(text string) (Value, error) {
	v, ok := parse(k.Type, text)
	if ok && k.Type == Enum {
		i := slices.IndexFunc(k.Values, func(s string) bool { return strings.EqualFold(s, v.text) })
		ok = i >= 0
		if ok {
			v.text = k.Values[i]
		}
	}
	if ok && k.Min != "" {
		min, _ := parse(k.Type, k.Min)
		ok = v.n >= min.n
	}
	if ok && k.Max != "" {
		max, _ := parse(k.Type, k.Max)
		ok = v.n <= max.n
	}
	if ok && k.Check != nil {
		ok = k.Check(v)
	}
	if !ok {
		return Value{}, &ValueError{Knob: k, Text: text}
	}
	return v, nil
}

// AllowedText describes the values k takes, in lang.
func (k Knob) AllowedText(lang string) string {
	if k.Allowed != "" {
		return i18n.T(lang, k.Allowed)
	}
	var what string
	switch k.Type {
	case Bool:
		return i18n.T(lang, "on or off")
	case Enum:
		return i18n.Tf(lang, "one of {{.Values}}", map[string]any{"Values": strings.Join(k.Values, ", ")})
	case String:
		return i18n.Tf(lang, "one line of text, at most {{.N}} bytes", map[string]any{"N": MaxStringLen})
	case Integer:
		what = i18n.T(lang, "an integer")
	case Duration:
		what = i18n.T(lang, "a duration such as 90s, 10m, 1h or 90d")
	case Size:
		what = i18n.T(lang, "a size such as 256MB, 1GiB or a number of bytes")
	case Money:
		what = i18n.T(lang, "an amount in US dollars such as 5 or 0.50")
	}
	data := map[string]any{"What": what, "Min": k.canonical(k.Min), "Max": k.canonical(k.Max)}
	switch {
	case k.Min != "" && k.Max != "":
		return i18n.Tf(lang, "{{.What}}, from {{.Min}} to {{.Max}}", data)
	case k.Min != "":
		return i18n.Tf(lang, "{{.What}}, at least {{.Min}}", data)
	case k.Max != "":
		return i18n.Tf(lang, "{{.What}}, at most {{.Max}}", data)
	}
	return what
}

// HelpText is k's help in lang.
func (k Knob) HelpText(lang string) string { return i18n.T(lang, k.Help) }

func (k Knob) canonical(text string) string {
	v, _ := parse(k.Type, text)
	return v.text
}

// validate checks a knob's definition: a wrong one is a programming
// error, reported when it is registered.
func (k Knob) validate() error {
	if k.Key == "" || strings.Trim(k.Key, "abcdefghijklmnopqrstuvwxyz0123456789_.") != "" ||
		!strings.Contains(k.Key, ".") || strings.HasPrefix(k.Key, ".") || strings.HasSuffix(k.Key, ".") || strings.Contains(k.Key, "..") {
		return fmt.Errorf("knob key %q: want lower-case dotted words, e.g. retry.max_attempts", k.Key)
	}
	if k.Owner == "" || k.Help == "" {
		return fmt.Errorf("knob %s: Owner and Help are required", k.Key)
	}
	switch k.Applies {
	case Now, NextStart, WindowRestart:
	default:
		return fmt.Errorf("knob %s: Applies %q: want now, next start or window restart", k.Key, k.Applies)
	}
	switch k.Type {
	case Bool, Integer, Duration, Size, Money, String:
		if len(k.Values) > 0 {
			return fmt.Errorf("knob %s: Values are for enums", k.Key)
		}
	case Enum:
		if len(k.Values) == 0 {
			return fmt.Errorf("knob %s: an enum needs Values", k.Key)
		}
	default:
		return fmt.Errorf("knob %s: unknown type %q", k.Key, k.Type)
	}
	for _, b := range []string{k.Min, k.Max} {
		if b == "" {
			continue
		}
		if k.Type != Integer && k.Type != Duration && k.Type != Size && k.Type != Money {
			return fmt.Errorf("knob %s: Min/Max are for integer, duration, size and money knobs", k.Key)
		}
		if _, ok := parse(k.Type, b); !ok {
			return fmt.Errorf("knob %s: bound %q is not a %s", k.Key, b, k.Type)
		}
	}
	if _, err := k.Parse(k.Default); err != nil {
		return fmt.Errorf("knob %s: default %q is not allowed (%s)", k.Key, k.Default, k.AllowedText(i18n.English))
	}
	return nil
}

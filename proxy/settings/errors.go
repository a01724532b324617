package settings

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-gateway/ferry/assets/i18n"
)

// ErrUnknownKey is wrapped by *UnknownKeyError.
var ErrUnknownKey = errors.New("unknown setting")

// ErrInvalidValue is wrapped by *ValueError.
var ErrInvalidValue = errors.New("value not allowed")

// ValueError is a value a knob does not take. Its message is one line
// naming the allowed values.
type ValueError struct {
	Knob Knob
	Text string
}

func (e *ValueError) Error() string { return e.Message(i18n.English) }

// Message is the error in lang.
func (e *ValueError) Message(lang string) string {
	return i18n.Tf(lang, "{{.Key}}: {{.Value}} is not allowed; want {{.Allowed}}", map[string]any{
		"Key": e.Knob.Key, "Value": quote(e.Text), "Allowed": e.Knob.AllowedText(lang)})
}

func (e *ValueError) Unwrap() error { return ErrInvalidValue }

// UnknownKeyError names a key no knob has, and the keys there are.
type UnknownKeyError struct {
	Key   string
	Known []string
}

func (e *UnknownKeyError) Error() string { return e.Message(i18n.English) }

// Message is the error in lang.
func (e *UnknownKeyError) Message(lang string) string {
	return i18n.Tf(lang, "unknown setting {{.Key}}; the settings are {{.Keys}}", map[string]any{
		"Key": quote(e.Key), "Keys": strings.Join(e.Known, ", ")})
}

func (e *UnknownKeyError) Unwrap() error { return ErrUnknownKey }

// quote bounds and quotes an outside value for an error line.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

package coreapi

import "context"

// Knobs is the settings registry as the windows' settings pages edit it
// (`ferry config` over the admin API). Core embeds it.
type Knobs interface {
	// Knobs lists the registry's knobs whose keys start with one of
	// prefixes ("retry.", "road."), in the registry's order.
	Knobs(ctx context.Context, prefixes ...string) ([]Knob, error)
	// SetKnob stores a knob's value in its text form ("3", "90s", "on").
	// A bad value is an error naming what is allowed; nothing is stored.
	SetKnob(ctx context.Context, key, value string) (Knob, error)
	// ResetKnob forgets the stored value: the default applies.
	ResetKnob(ctx context.Context, key string) (Knob, error)
}

// Knob types (proxy/settings.Type).
const (
	KnobBool     = "bool"
	KnobInteger  = "integer"
	KnobDuration = "duration"
	KnobSize     = "size"
	KnobMoney    = "money"
	KnobEnum     = "enum"
	KnobString   = "string"
)

// KnobNextStart is Knob.Applies for a knob read when Ferry starts.
const KnobNextStart = "next start"

// Knob is one setting of the registry.
type Knob struct {
	Key     string
	Value   string // in effect now, in its text form
	Default string
	// Stored is true when the user set it (the value outlives a restart).
	Stored bool
	Type   string   // one of the Knob* types
	Values []string // an enum's values
	// Applies is "now", "next start" or "window restart".
	Applies string
	// Help and Allowed describe the knob and its allowed values in the
	// windows' language.
	Help, Allowed string
	// Override names this run's flag or variable that sets it ("flag
	// --rpm"); "" when none.
	Override string
}

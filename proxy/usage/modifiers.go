package usage

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Multiplier scales the whole price of a request whose usage carries
// Field=Value (service_tier, inference_geo, speed), for the models it
// names (ids or families, matched like price rows) or for all when Models
// is empty.
type Multiplier struct {
	Field  string   `json:"field"`
	Value  string   `json:"value"`
	Factor float64  `json:"factor"`
	Models []string `json:"models,omitempty"`
	// Tiers replace Factor for a request whose whole prompt is longer than
	// a tier's threshold (fast mode on Opus 4.6 is 6× up to 200K prompt
	// tokens and 12× above); the highest threshold passed wins.
	Tiers []MultiplierTier `json:"tiers,omitempty"`
}

// MultiplierTier is the factor of a Multiplier above a prompt length.
type MultiplierTier struct {
	AbovePromptTokens int64   `json:"above_prompt_tokens"`
	Factor            float64 `json:"factor"`
}

// Usage fields and values the default multipliers read.
const (
	SpeedFast    = "fast"
	SpeedDefault = "standard"
	GeoUS        = "us"
)

// DefaultMultipliers are the modifiers Anthropic's pricing page gives
// figures for (shared/anthropic-api.md): fast mode 2× on Opus 5, 6× on
// Opus 4.6 (12× for prompts over 200K tokens), US-only inference 1.1×.
// Fast mode on any other model has no figure: such a request is priced as
// unknown (see Prices.Cost).
func DefaultMultipliers() []Multiplier {
	return []Multiplier{
		{Field: ExtraSpeed, Value: SpeedFast, Factor: 2, Models: []string{"claude-opus-5"}},
		{Field: ExtraSpeed, Value: SpeedFast, Factor: 6, Models: []string{"claude-opus-4-6"},
			Tiers: []MultiplierTier{{AbovePromptTokens: 200_000, Factor: 12}}},
		{Field: ExtraInferenceGeo, Value: GeoUS, Factor: 1.1},
	}
}

// applies reports whether m prices a request of model id (normalised)
// whose usage fields are extras.
func (m Multiplier) applies(id string, extras map[string]string) bool {
	if extras[m.Field] != m.Value {
		return false
	}
	return len(m.Models) == 0 || slices.ContainsFunc(m.Models, func(f string) bool { return familyOf(id, normalizeModel(f)) })
}

// factorFor returns m's factor for a prompt of this length.
func (m Multiplier) factorFor(prompt int64) float64 {
	f, top := m.Factor, int64(0)
	for _, t := range m.Tiers {
		if prompt > t.AbovePromptTokens && t.AbovePromptTokens > top {
			f, top = t.Factor, t.AbovePromptTokens
		}
	}
	return f
}

// modifiers returns the product of the multipliers that apply to a
// request, naming each in label. ok is false when the request ran at a
// speed other than standard and no multiplier prices that speed for the
// model: its price is then unknown. Call with p.mu held.
func (p *Prices) modifiers(id string, prompt int64, extras map[string]string, label *strings.Builder) (factor float64, ok bool) {
	factor = 1
	speedPriced := false
	for _, m := range p.table.Multipliers {
		if !m.applies(id, extras) {
			continue
		}
		f := m.factorFor(prompt)
		factor *= f
		if m.Field == ExtraSpeed {
			speedPriced = true
		}
		fmt.Fprintf(label, " %s=%s×%s", m.Field, m.Value, strconv.FormatFloat(f, 'f', -1, 64))
	}
	if s := extras[ExtraSpeed]; s != "" && s != SpeedDefault && !speedPriced {
		fmt.Fprintf(label, " %s=%s unpriced", ExtraSpeed, s)
		return 0, false
	}
	return factor, true
}

func equalMultipliers(a, b Multiplier) bool {
	return a.Field == b.Field && a.Value == b.Value && a.Factor == b.Factor &&
		slices.Equal(a.Models, b.Models) && slices.Equal(a.Tiers, b.Tiers)
}

func validFactor(f float64) bool { return f > 0 && !math.IsNaN(f) && !math.IsInf(f, 0) }

func (m Multiplier) validate() error {
	if m.Field == "" || m.Value == "" {
		return fmt.Errorf("multiplier needs field and value: %w", ErrBadPriceRow)
	}
	if !validFactor(m.Factor) {
		return fmt.Errorf("multiplier %s=%s: factor %v: %w", m.Field, m.Value, m.Factor, ErrBadPriceRow)
	}
	for _, t := range m.Tiers {
		if t.AbovePromptTokens <= 0 || !validFactor(t.Factor) {
			return fmt.Errorf("multiplier %s=%s: tier >%d factor %v: %w", m.Field, m.Value, t.AbovePromptTokens, t.Factor, ErrBadPriceRow)
		}
	}
	return nil
}

package budget

import (
	"strconv"
	"strings"

	"github.com/ferry-gateway/ferry/proxy/settings"
)

// The optional display currency: amounts shown to people may also be
// given in another currency at a rate the user sets. Records, budgets and
// prices stay in USD.
const (
	KeyCurrency = "display.currency"
	KeyUSDRate  = "display.usd_rate"
)

// Display is the display currency: Currency units per US dollar. The zero
// Display (or USD, or a zero rate) shows dollars only.
type Display struct {
	Currency string  `json:"currency"`
	PerUSD   float64 `json:"per_usd"`
}

// On reports whether amounts are also shown in another currency.
func (d Display) On() bool { return d.Currency != "" && d.Currency != "USD" && d.PerUSD > 0 }

// Amount writes usd in the display currency ("CNY 88.85"), "" when the
// display currency is off.
func (d Display) Amount(usd float64) string {
	if !d.On() {
		return ""
	}
	return d.Currency + " " + strconv.FormatFloat(usd*d.PerUSD, 'f', 2, 64)
}

func displayKnobs() []settings.Knob {
	return []settings.Knob{
		{Key: KeyCurrency, Owner: "proxy/budget", Type: settings.String, Default: "USD",
			Help:    "Currency amounts are also shown in (records stay in US dollars)",
			Allowed: "a three-letter currency code such as USD or CNY",
			Check:   func(v settings.Value) bool { return currencyCode(v.String()) },
			Applies: settings.Now},
		{Key: KeyUSDRate, Owner: "proxy/budget", Type: settings.String, Default: "0",
			Help:    "Units of the display currency per US dollar (0: show dollars only)",
			Allowed: "a number from 0 to 1000000, such as 7.2",
			Check:   func(v settings.Value) bool { _, ok := parseRate(v.String()); return ok },
			Applies: settings.Now},
	}
}

func currencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func parseRate(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && f >= 0 && f <= 1e6
}

// DisplayFrom reads the display currency from the registry's values.
func DisplayFrom(value func(key string) settings.Value) Display {
	r, _ := parseRate(value(KeyUSDRate).String())
	return Display{Currency: value(KeyCurrency).String(), PerUSD: r}
}

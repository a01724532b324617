package budget

import (
	"time"

	"github.com/ferry-gateway/ferry/proxy/settings"
)

// KeyTimezone is the zone budget days and months are counted in. The
// budgets themselves are not knobs: they have their own store and
// commands (`ferry budget`).
const KeyTimezone = "budget.timezone"

// LocalZone is budget.timezone's value for the machine's zone.
const LocalZone = "local"

// Knobs are the budgets' settings.
func Knobs() []settings.Knob {
	return append([]settings.Knob{{
		Key: KeyTimezone, Owner: "proxy/budget", Type: settings.String, Default: LocalZone,
		Help:    "The time zone budget days and months are counted in",
		Allowed: "local (this machine's zone) or an IANA zone such as Asia/Shanghai",
		Check:   func(v settings.Value) bool { _, err := Zone(v.String()); return err == nil },
		Applies: settings.NextStart,
	}}, displayKnobs()...)
}

// Zone reads a budget.timezone value.
func Zone(name string) (*time.Location, error) {
	if name == "" || name == LocalZone {
		return time.Local, nil
	}
	return time.LoadLocation(name)
}

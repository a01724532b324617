// Package settings is Ferry's registry of scalar knobs: every setting a
// person may change with `ferry config`, the admin API (/_ferry/config) or
// the settings window, with its owner, type, default, allowed values,
// one-line help in English and Simplified Chinese, and when a change takes
// effect (now, at the next start, when the windows restart).
//
// Values have one text form each (issue 8, decision 5): durations are Go
// durations plus days (90s, 10m, 1h, 90d), sizes take units (256MB, 1GiB)
// or a byte count, money is decimal US dollars (5, 0.50), booleans are
// on|off. A value is validated when it is set; the registry stores its
// canonical text in the settings bucket under the knob's key, publishes
// events.SettingsChanged with the key as Detail, and calls the owner's
// watchers so the owner applies it at once when it can. A `ferry serve`
// flag or FERRY_* variable overrides a knob for one run (Override) and is
// never stored.
//
// Routes, prices, filter lists and budgets are not knobs: they keep their
// typed stores and their own commands. State (the batch ledger, the route
// choice) is not a knob either.
//
// It imports proxy/events and assets/i18n; it knows nothing of bbolt (the
// settings bucket is reached through Store), HTTP or the UI.
package settings

// Registering and watching a knob (in the owner's package and in proxy/app,
// the composition root that opens the registry):
//
//	// owner package:
//	var MaxAttemptsKnob = settings.Knob{
//		Key: "retry.max_attempts", Owner: "proxy/route", Type: settings.Integer,
//		Default: "3", Min: "1", Max: "10", Applies: settings.Now,
//		Help: "How many times one request is tried, across routes", // + zh-CN in assets/i18n
//	}
//	// proxy/app (knobs.go): add it to Knobs(); then, building the owner:
//	n := reg.Value("retry.max_attempts").Int()
//	reg.Watch("retry.max_attempts", func(v settings.Value) { m.maxAttempts.Store(v.Int()) })

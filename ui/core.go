package ui

import "github.com/ferry-gateway/ferry/ui/coreapi"

// The windows' view of the core lives in ui/coreapi (Fyne-free, so that
// the window process's admin client can implement it without Fyne); these
// names keep the windows' code short.

// AutoChoice is the route choice meaning "the healthy route with the lowest
// probed latency".
const AutoChoice = coreapi.AutoChoice

type (
	Core        = coreapi.Core
	RouteStatus = coreapi.RouteStatus
	Probe       = coreapi.Probe
	Percentiles = coreapi.Percentiles
	Breakdown   = coreapi.Breakdown
	Headroom    = coreapi.Headroom
	Stats       = coreapi.Stats
	SeriesPoint = coreapi.SeriesPoint
	PriceRow    = coreapi.PriceRow
	Settings    = coreapi.Settings
)

// The number formats the windows and the tray share.
var (
	FormatUSD     = coreapi.FormatUSD
	FormatMS      = coreapi.FormatMS
	FormatCount   = coreapi.FormatCount
	FormatPercent = coreapi.FormatPercent
)

// ClaudeEnvironment is the shell command that points Claude Code at Ferry.
var ClaudeEnvironment = coreapi.ClaudeEnvironment

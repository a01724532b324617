package ui

import "github.com/ferry-gateway/ferry/ui/coreapi"

// The filter lists' values, as the Filters page and the dashboard use them.
type (
	FilterList    = coreapi.FilterList
	FilterEntry   = coreapi.FilterEntry
	FilterTest    = coreapi.FilterTest
	FilterTestHit = coreapi.FilterTestHit
)

package cache

import "github.com/ferry-gateway/ferry/storage"

// The cache's fields of a request's record, set when it is accounted
// (after the meter priced what the client was sent). A hit or a shared
// answer cost nothing: its tokens and cost are zeroed so spend totals
// stay right, and what the meter found is kept as what it saved.

// markSaved: the answer came from the cache or from another client's
// call; what the meter priced was saved.
func markSaved(rec *storage.Record, hit bool) {
	rec.SavedUSD = rec.CostUSD
	rec.SavedTokens = rec.Tokens.Prompt() + rec.Tokens.Output
	zeroCost(rec)
	rec.CacheHit = hit
	rec.Coalesced = !hit
}

// markLeft: a client that left a shared call others finished: the call's
// cost goes to the one still attached, and nothing was saved for it.
func markLeft(rec *storage.Record) {
	zeroCost(rec)
	rec.SavedUSD, rec.SavedTokens = 0, 0
	rec.Coalesced = true
}

func zeroCost(rec *storage.Record) {
	rec.Tokens = storage.Tokens{}
	rec.CostUSD = 0
}

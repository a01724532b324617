// Package cache is Ferry's dedup cache (issue 10): a pipeline stage
// (proxy.PhaseCache) that answers a request identical to one answered
// recently from a stored copy, byte for byte, and makes identical requests
// in flight share one upstream call.
//
// Claude Code re-sends a request it timed out on while the first is still
// running, its VS Code extension sends dozens of identical count_tokens
// calls at start-up, and scripts re-run the same prompt: each was paid
// for. Cached: POST /v1/messages (streaming and not, apart: "stream" is in
// the body), POST /v1/messages/count_tokens, GET /v1/models[/{id}].
//
// Identity is the pipeline's canonical request key (proxy/reqkey, computed
// once after the request filters): method, path and query, the body as
// equal JSON without Claude Code's per-request billing block,
// anthropic-version, the anthropic-beta set, the filter set's version and
// an HMAC of the full credential.
//
// What it owns: the lookup and the replay (hit.go), the fill of complete
// and useful answers only (useful.go, fill.go), coalescing with a backlog
// cap per client (flight.go), the x-ferry-cache headers, and the cache's
// fields of the record (a hit or a shared answer costs nothing; what it
// saved is kept). What it must not know: how entries are kept (Store: the
// bbolt file storage.CacheDB today, Redis later), how requests are sent
// (the pipeline's attempts, which coalescing detaches from the first
// client with Outgoing.Detach), how answers are priced (the meter prices
// the replayed bytes; the annotation moves that price to saved).
package cache

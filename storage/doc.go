// Package storage is Ferry's database: one bbolt file (ferry.db, mode 0600)
// holding settings, secrets, one record per request, and the rollups that
// let the dashboard answer any window over a year of history in
// milliseconds.
//
// It owns the on-disk layout, its schema version and forward migrations, the
// batched recorder that keeps writes off the request path, the rollups and
// their queries, and retention. It knows nothing of HTTP, the proxy, prices
// or the UI: it stores the Record the proxy filled in and sums what it is
// given. No *bolt.Tx or borrowed []byte leaves the package.
//
// Layout (keep this tree current):
//
//	v1/                          root bucket; its name never changes
//	├── version                  schema version, big-endian uint64 (SchemaVersion)
//	├── settings/                key → JSON value (GetSetting/PutSetting)
//	├── secrets/                 emptied: secrets live in secrets.json (proxy/secrets), rewritten whole; proxy/app moves old ones out
//	├── usage/                   be64(record ID) → binary Record (codec.go, record_tags.go); ID = bucket sequence
//	├── rollups/
//	│   ├── minute_horizon       be64(Unix s): minute rollups before it were pruned
//	│   ├── hour_horizon         be64(Unix s): hour rollups before it were pruned
//	│   ├── minute/              be64(Unix s of the minute's start, UTC) → binary rollup
//	│   ├── hour/                be64(Unix s of the hour's start, UTC)   → binary rollup
//	│   └── day/                 be64(Unix s of the UTC day's start)     → binary rollup
//	├── cache/                   unused: the dedup cache keeps its own file (cache.db, cachedb.go)
//	└── filters/                 list name → the list's encoding (the filter package's JSON)
//
// A Record's optional fields (attempts, session, cache savings, filter hits,
// queue wait, API-equivalent cost, and those of later issues) are tagged
// fields after the fixed ones: adding one needs a new tag, not a migration,
// and a Ferry that does not know a tag skips it. Record's doc lists every
// field with the one package that owns it.
//
// The settings bucket, key by key (keep this list current). [knob] marks
// the knobs of the settings registry (proxy/settings, `ferry config`):
// their value is the knob's canonical text as a JSON string, and only the
// registry writes them. The other keys are typed stores and state, each
// written by its owner alone.
//
//	server.listen             [knob] proxy/app    listen address used at the next start
//	upstream.api_base         [knob] proxy        where requests go
//	upstream.connect_timeout  [knob] proxy/route  time to connect through the route
//	upstream.first_byte_timeout [knob] proxy      time to the response headers
//	upstream.idle_timeout     [knob] proxy        longest silence inside a response
//	request.max_body          [knob] proxy        largest request body
//	history.retention         [knob] proxy/app    how long records are kept (RunRetention)
//	history.store_bodies      [knob] proxy/app    records keep prompt and answer bodies
//	ui.language               [knob] ui           the windows', tray's and CLI's language
//	metrics.public            [knob] proxy/app    /_ferry/metrics readable without a token
//	retry.max_attempts        [knob] proxy/retry  upstream attempts per request before its first byte
//	retry.max_elapsed         [knob] proxy/retry  no retry starts later than this after arrival
//	retry.max_retry_after     [knob] proxy/retry  longest 429 retry-after Ferry waits out itself
//	road.failover             [knob] proxy/route  auto-only | always: when road failures fail over
//	road.stream_idle_timeout  [knob] proxy        longest silence of an event stream
//	road.stream_first_byte_timeout [knob] proxy   time to a streaming request's headers
//	road.keep_warm            [knob] proxy/route  warm connections for the current and next route
//	road.h2_ping_interval     [knob] proxy/route  silence before an HTTP/2 PING
//	road.h2_ping_timeout      [knob] proxy/route  an unanswered PING closes the connection
//	budget.timezone           [knob] proxy/budget the zone budget days and months are counted in
//	display.currency          [knob] proxy/budget a currency amounts are also shown in
//	display.usd_rate          [knob] proxy/budget its units per US dollar
//	limit.rpm                 [knob] proxy/limit  requests per minute per key
//	limit.itpm                [knob] proxy/limit  input tokens per minute per key
//	limit.otpm                [knob] proxy/limit  output tokens per minute per key
//	limit.concurrency         [knob] proxy/limit  most requests upstream at once
//	limit.queue_wait          [knob] proxy/limit  longest wait in the queue
//	limit.follow_upstream     [knob] proxy/limit  wait for Anthropic's reset near its limit
//	brake.enabled             [knob] proxy/brake  the runaway brake on or off
//	brake.repeats             [knob] proxy/brake  repeats that make a loop
//	brake.window              [knob] proxy/brake  window for repeats of one request
//	cache.enabled             [knob] proxy/cache  the dedup cache answers and coalesces
//	cache.ttl                 [knob] proxy/cache  how long a Messages answer is served again
//	cache.count_tokens_ttl    [knob] proxy/cache  how long a count_tokens answer is served again
//	cache.models_ttl          [knob] proxy/cache  how long the model list is served again
//	cache.max_bytes           [knob] proxy/cache  the cache's size (LRU past it)
//	cache.max_entry_bytes     [knob] proxy/cache  the largest answer kept
//	routes                    proxy/route   []Route: the saved routes
//	route_choice              proxy/route   the chosen route's name, or "auto"
//	route_learnt              proxy/route   what each route learnt (HTTP/1.1 fallback, classic key shares), by route name
//	prices                    proxy/usage   the price table
//	batch_results_counted     proxy/usage   the batch ledger: batch id → when its results were counted
//	budgets                   proxy/budget  []Budget
//	budget_alerts             proxy/budget  alert state per budget and period
//	budget_allow              proxy/budget  the allowance in force ("allow one more hour") and past ones
//	quota                     proxy/quota   the latest subscription quota per account and the notifications made
//
// Before the registry, four knobs were stored as retention (a Go duration
// string), store_bodies (a bool), listen and language; proxy/settings
// moves each to its key above on the first open (Knob.Legacy).
//
// Records are keyed by an increasing sequence, not by time: they are written
// when a request ends, so their Time (when it started) is only nearly in key
// order. No time index is kept: Prune scans from the oldest key and stops an
// hour past its cutoff, and every time-range question is answered by the
// rollups, which are keyed by time.
//
// A rollup sums the records whose Time falls in its period: counts by error
// class and type, latency histograms (first byte, first token, total) with
// log-spaced buckets 4 % wide, tokens by class, known-price cost, the count
// of requests whose price was unknown, cache hits, the same counts by
// model and by route, and filter-list matches by list. Rollups are updated in the same transaction that
// stores the records, so after a crash they always agree.
//
// Retention: records older than the user's retention (default 90 days, set
// by the caller of RunRetention) are deleted; minute rollups are kept
// MinuteRollupRetention (8 days, so a 7-day window still has exact edges),
// hour rollups HourRollupRetention (400 days), day rollups DayRollupRetention
// (5 years, about 2 MB). Freed pages are reused by bbolt, so the file stops
// growing once retention is reached.
//
// The dedup cache's answers live apart, in cache.db beside ferry.db
// (CacheDB, its layout in cachedb.go): a cache failure never touches the
// history, and the file can always be deleted.
//
// Only this package imports bbolt; it imports nothing from proxy or ui.
package storage

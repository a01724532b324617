// Package limit is the spend guard's local limits: requests and tokens per
// minute per credential (PhaseRateLimit), the concurrency queue
// (PhaseQueue), and following Anthropic's own rate-limit headroom.
//
// It owns:
//   - token buckets per credential (by key fingerprint) for limit.rpm
//     (default 100, the figure of the guide Ferry grew from: a safety net
//     against a runaway agent) and the optional limit.itpm and limit.otpm,
//     each with a burst equal to its limit. They count upstream
//     POST /v1/messages only: not count_tokens, not cache hits (the cache
//     answers before PhaseRateLimit). Tokens are taken when a request's
//     usage is known, so a bucket may go below zero and then refuses until
//     it refills. Over a limit: 429 rate_limit_error with retry-after.
//   - the queue: at most limit.concurrency requests upstream at once
//     (default off); the rest wait first in, first out, at most
//     limit.queue_wait (60 s), then 429 with retry-after: 5. A slot is held
//     across a request's retries and given back when its response ends.
//   - limit.follow_upstream (default on): when Anthropic's
//     anthropic-ratelimit-* headers for the same credential say 5 % or
//     less remains, new requests wait for the reset instead of meeting a
//     429, at most retry.max_retry_after.
//
// Its settings are knobs of the settings registry (limit.*, knobs.go),
// applied at once when changed. It must not know the UI or storage; it
// publishes limit.hit events for the desktop.
package limit

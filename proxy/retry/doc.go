// Package retry decides whether Ferry tries a request again before
// anything reached the client (issue 9): how many attempts, how long to
// wait, whether the next one moves to another route, and which upstream
// answers may be retried at all.
//
// The rules, in the order they are applied:
//
//   - Nothing is retried once max_attempts attempts were made (failovers
//     included) or max_elapsed has passed since the request arrived.
//   - A road failure (connect, proxy handshake, TLS, reset or EOF before
//     the response headers, first-byte timeout) of a request that was not
//     yet sent is always retried, on the next candidate route. One that
//     was sent may have reached Anthropic: it is retried at most once.
//   - 529 and 500/502/503/504 are retried once at most, on the same route:
//     Claude Code retries those itself up to 10 times, and Ferry must not
//     multiply that. x-should-retry, when present, is honoured.
//   - A 429 is retried only when its retry-after is at most max_retry_after
//     and it is not a spend or subscription-quota limit. Other 4xx never.
//
// Policy implements proxy.RetryPolicy; Live swaps it when a retry.*
// setting changes. Metrics are the road's Prometheus counters (retries,
// failovers, stream stalls, breaker transitions and states), registered
// beside the usage metrics. road_test.go is the road rig: toxiproxy
// between Ferry and real microsocks/tinyproxy in front of the HTTPS fake.
//
// It knows the proxy's attempt types and the routes' status, nothing of
// transports or storage.
package retry

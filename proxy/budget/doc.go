// Package budget is the spend guard's budgets: five global budgets (daily
// and monthly spend, requests per day, spend per Claude Code session, and
// spend rate over the last five minutes), each soft (alerts only) or hard
// (new requests refused), each counted on the billed cost or on what the
// usage would cost with an API key (the basis subscription users want).
//
// It owns:
//   - the Ledger: running sums by local day and month (in budget.timezone,
//     so a day is the user's day, not UTC's), by session and by 10-second
//     slot for the rate, seeded at start from the stored records and fed
//     with each finished request's exact cost;
//   - the alerts at 80 %, 95 % and 100 % of each budget, once per crossing
//     per period, their state kept in the settings (a restart repeats none),
//     published as events and logged;
//   - the hard refusal: 400 invalid_request_error naming the budget, the
//     amount spent, the limit and when it resets, only for new Messages,
//     chat completions and batch creations (never count_tokens or models,
//     which are free and which Claude Code needs to start); deferred with
//     Outgoing.Refuse so that a cache hit, which costs nothing, is still
//     served;
//   - "allow one more hour": hard caps lifted until a time, recorded.
//
// Decisions worth knowing:
//   - A request is allowed while its budget is not spent; its exact cost
//     lands when it ends. A request in flight is never cut.
//   - The sums are derived from the records (storage.DB.EachRecordSince,
//     newest back to the month's start) at start and kept in memory after:
//     one source of truth, exact across a restart. A monthly budget needs
//     the record retention (default 90 days) to cover the month.
//   - Cache hits and coalesced followers cost nothing and count no request.
//
// It must not know how records are stored beyond the small interfaces it
// declares (Settings, Records), nor anything of the UI: the desktop turns
// its events into notifications and reads its admin endpoints.
package budget

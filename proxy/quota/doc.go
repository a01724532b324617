// Package quota reads a subscription's quota (Claude Code on a Pro or Max
// plan) from the anthropic-ratelimit-unified-* headers Anthropic sends on
// every response to an OAuth token: the 5-hour and 7-day windows, the
// per-model weekly windows, status, representative claim and overage.
//
// It owns:
//   - the Tracker: the latest reading per account, keyed by the
//     anthropic-organization-id the response shows (OAuth tokens rotate,
//     so never by token), read passively from responses that went
//     upstream (no extra calls, never from a cached answer);
//   - the notifications: at 80 % and 95 % of the 5-hour window (once per
//     window, that is per reset time), and when an exhausted window resets
//     (a timer at its reset time), published as quota.alert events and
//     logged;
//   - GET /_ferry/quota and the text `ferry quota` prints.
//
// A 429 at quota exhaustion is never retried: the retry policy tells it
// with usage.IsSpendOrQuotaLimit's rules.
//
// It knows nothing of the UI or storage.
package quota

// Package reqkey computes Ferry's canonical request key: the identity of a
// request as the dedup cache and the runaway brake compare requests. Two
// requests have the same key when they would get the same answer from the
// same account: the same method, path and raw query, the same
// anthropic-version, the same set of anthropic-beta values, the same filter
// set version, the same credential, and bodies that are equal JSON.
//
// JSON equality is encoding/json's with UseNumber, decoded into any: key
// order and whitespace don't matter, strings are compared decoded ("\u0041"
// is "A"; an invalid UTF-8 byte or a lone surrogate is U+FFFD, as
// encoding/json makes it), numbers by their exact decimal value (1, 1.0 and
// 10e-1 are one number; no float rounding), and of duplicate keys the last
// wins. A body that is not valid JSON is keyed by its raw bytes instead, in
// a separate domain, so it never meets a valid document's key.
//
// Claude Code puts a text block beginning "x-anthropic-billing-header:" at
// the head of its system prompt whose fields change on every request
// (cch=, cc_prev_req=, cc_prompt_id= …). Anthropic strips it; the key leaves
// out every such block of the top-level "system" array, whatever its other
// fields, or no two of Claude Code's requests would ever compare equal. The
// forwarded bytes keep it: this package never changes a body.
//
// The body is never decoded into values: a single pass writes a canonical
// byte form (length-prefixed decoded strings, normalised numbers, object
// members sorted by key with duplicates dropped) into a reused buffer and
// hashes it once with SHA-256. Claude Code's 85 KB bodies cost about
// 0.18 ms of CPU (0.22 ms in its own member order, which the form must
// sort) on this project's 2-core VM, a third of it SHA-256 of the form
// (BenchmarkKey); the goal is 0.15 ms.
//
// The credential enters the key only as an HMAC-SHA256 under a per-install
// secret the caller passes: a hit is served without Anthropic seeing the
// key, so the key must separate two credentials' answers with more than a
// short fingerprint, and the stored keys must not reveal the credential.
//
// It knows nothing of the cache, the store or the brake; it only computes.
package reqkey

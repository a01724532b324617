// Package brake is the runaway brake: it stops an agent caught in a loop
// before the loop eats the budget or the quota.
//
// It runs on POST /v1/messages only (PhaseBrake, before the budget and the
// cache, so it counts cache hits too), per Claude Code session. In an
// agent loop every turn adds a tool call and its result, so the requests
// are never identical; a loop shows as the same call with the same result
// again and again. The brake fires when:
//   - the last brake.repeats (8) assistant tool_use blocks of the
//     conversation are equal (tool name and input, compared as JSON
//     values) and got equal tool_results; it reads only the tail of the
//     messages, newest first, and stops at the first difference, so a
//     growing conversation costs it a few small decodes; or
//   - one canonical request (the pipeline's key, Outgoing.Key) succeeded
//     brake.repeats times within brake.window (10 minutes). A retry after
//     an error does not count, so Claude Code's own retries of a 529 never
//     trip it.
//
// The request is refused with 400 invalid_request_error explaining the
// loop and how to go on: the header x-ferry-brake: off on the request,
// "Release brake" in the tray (that session, one hour), or
// `ferry brake release SESSION`. A brake.fired event lets the desktop
// notify.
//
// count_tokens is never braked: Claude Code sends bursts of identical ones
// at start-up.
package brake

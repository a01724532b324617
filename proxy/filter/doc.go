// Package filter is Ferry's secrets guard and content filter: named lists
// of keywords and RE2 regexes that redact, block or flag text in requests
// before they leave the laptop and in answers before they reach the client.
//
// It owns:
//   - the lists' model (List, Entry, Action, Scope, per-side modes), their
//     validation and their plain-text import/export format (textfile.go);
//   - the built-in `secrets` list: API keys by their exact formats, JWTs,
//     PEM private keys, passwords in URLs, AWS keys, .env secret lines
//     (secrets.go). No entropy guessing: ordinary code is never mangled;
//   - the matching engine (Set): regexes, and keywords case-folded and
//     NFKC-normalised, many at once through Aho–Corasick (ahocorasick.go);
//   - stable placeholders `[FILTERED:rule:7f3a]`, a keyed hash of the value
//     under a per-install key, so the same secret reads the same in every
//     turn and Anthropic's prompt cache keeps hitting;
//   - the request side: every text-bearing field of a Messages,
//     count_tokens or chat.completions body, with only the escaped bytes
//     of a match spliced out (request.go, jsonstr.go), as a proxy.Stage;
//   - the response side: text_delta and input_json_delta values of a
//     streamed answer, with a bounded hold-back per content block
//     (response.go; its frames read without reflection in frames.go, its
//     anchors tracked as a block grows in anchors.go), and whole
//     non-streamed answers.
//
// It must not know where lists are stored (a Store is handed in), how the
// CLI or the UI show them, or anything of routes, usage or the cache.
// Claude Code's billing block and thinking blocks are never scanned or
// changed: the first changes on every request, the second is signed.
package filter

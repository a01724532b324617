// Package usage turns what flows through Ferry into money and numbers.
//
// It owns:
//   - the Meter: a tee on each response that keeps the bytes as they pass,
//     each write with its arrival time, and reads the usage at Done
//     (non-streaming JSON, Anthropic SSE, OpenAI-format chat completions,
//     batch results as JSONL, gzip or deflate bodies) without delaying,
//     blocking or failing a single write, filling the usage fields of the
//     request's storage.Record; a long stream is read in 64 KiB pieces;
//   - Prices: the price table (per model, per token class, dated versions,
//     prompt-length tiers, batch discount, multipliers for usage fields such
//     as inference_geo or speed), model-id matching and Cost, persisted
//     through a Settings interface under the key "prices";
//   - the BatchLedger: which batches' results were already counted, kept
//     under the settings key "batch_results_counted";
//   - ClientFamily: the User-Agent family of a request (claude-cli, the SDKs,
//     IDE plugins);
//   - the read side over storage: /_ferry/stats, /_ferry/requests,
//     /_ferry/usage, /_ferry/prices and Prometheus /_ferry/metrics, plus the
//     terminal and CSV formatting the CLI prints.
//
// Decisions worth knowing:
//   - count_tokens is free: its answer is kept in UsageExtras
//     ("counted_input_tokens") but never in Tokens, which sum to spend.
//   - A compressed body is kept (up to the cap) and decoded at Done rather
//     than on a goroutine: a decompressor needs a reader it can block on,
//     and Write must never block. Each decoded frame is dated by the write
//     that carried its last compressed byte, so first-token times survive.
//     gzip and deflate are decoded; br and zstd are recorded as usage
//     unknown.
//   - A successful Messages response whose usage could not be read (over
//     the cap, undecodable) is PriceKnown=false with UsageExtras
//     "usage_unknown" saying why: unknown, never $0.
//   - Batch results (GET …/batches/{id}/results) are the only place a
//     batch's usage appears: each result is priced on its own at the batch
//     factor and the download's record carries the sum. A second download
//     of the same batch counts nothing, after a restart too: the ids of
//     counted batches are kept in the settings (35 days, longer than the
//     API keeps results).
//   - A response is priced by the model it names and the modifiers its
//     usage reports (speed, inference_geo; multipliers may have prompt-
//     length tiers), iteration by iteration when usage.iterations is
//     present (iterations.go); a speed no multiplier prices is unknown.
//   - A prefix price row never prices a newer minor version: claude-opus-4
//     does not price claude-opus-4-9, which is unknown until it has a row.
//
// It must not know how the proxy forwards bytes, which route was used or
// how records are stored: the proxy hands it a request and the response
// bytes, storage hands it query results through small interfaces defined
// here. It never imports package proxy (proxy does not import usage either:
// proxy/app wires a Meters.NewObserver into proxy.ObserverFactory); its
// handlers answer through the leaf package proxy/reply, as the proxy does.
// It never imports bbolt or the UI. The import-rule test in proxy/app
// checks this.
package usage

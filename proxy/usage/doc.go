// Package usage turns what flows through Ferry into money and numbers.
//
// It owns:
//   - the Meter: a tee on each response that reads usage as the bytes pass
//     (non-streaming JSON, Anthropic SSE, OpenAI-format chat completions,
//     batch results as JSONL, gzip or deflate bodies) without delaying,
//     blocking or failing a single write, and fills the usage fields of the
//     request's storage.Record when the exchange ends;
//   - Prices: the price table (per model, per token class, dated versions,
//     prompt-length tiers, batch discount, multipliers for usage fields such
//     as inference_geo or speed), model-id matching and Cost, persisted
//     through a Settings interface under the key "prices";
//   - ClientFamily: the User-Agent family of a request (claude-cli, the SDKs,
//     IDE plugins);
//   - the read side over storage: /_ferry/stats, /_ferry/requests,
//     /_ferry/usage, /_ferry/prices and Prometheus /_ferry/metrics, plus the
//     terminal and CSV formatting the CLI prints.
//
// It must not know how the proxy forwards bytes, which route was used or
// how records are stored: the proxy hands it a request and the response
// bytes, storage hands it query results through small interfaces defined
// here. It never imports package proxy (proxy does not import usage either:
// the lead wires a Meters.NewObserver into proxy.ObserverFactory), and it
// never imports bbolt or the UI.
package usage

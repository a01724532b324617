// Package proxy is Ferry's forwarding core: the http.Handler that carries a
// client's Claude API request to the upstream (through the route a
// route.Chooser picks) and the upstream's answer back, byte for byte.
//
// It owns:
//   - forwarding: method, path, query, body and end-to-end headers unchanged;
//     hop-by-hop headers dropped; Accept-Encoding narrowed to what Ferry can
//     read (gzip, identity); the local token swapped for the real key;
//   - the guards of the local port: Host (DNS rebinding), Origin (browsers),
//     body size, keys, and pause;
//   - timeouts: first byte (to the upstream's response headers) and idle
//     (between body reads) — never a total one, long Opus streams must live;
//   - Ferry's own errors in Anthropic's shape (one function maps an error to
//     a status), and the repair of a stream that breaks after its 200;
//   - the admin mux under /_ferry/ (health, pause, resume, and what others
//     mount with HandleAdmin), and serving with a bounded graceful drain;
//   - one storage.Record per API request, handed to the Observer, the
//     Recorder and the events.Bus.
//
// It must not know how usage is metered or priced (an Observer does that),
// how records are stored (a Recorder), how routes are dialled or chosen
// (proxy/route), where keys are kept (Keys), or anything of the UI. The
// guards (cache, filters, limits, budgets, the brake) plug in as Stages
// and response hooks in the order pipeline.go writes down, not as code
// here; retries and failover are a RetryPolicy around attempts.
//
// Files, one concern each: request.go (the way out: guards, body,
// stages), pipeline.go (the stage contract and its order), attempt.go
// (attempts, retries, failover), relay.go (the way back: headers, body,
// stream repair), watchdog.go (first-byte and idle clocks), headers.go
// (hop-by-hop, encodings, target URL), accounting.go (record, event, log),
// guard.go, body.go, admin.go, serve.go.
package proxy

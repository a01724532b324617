// Package testsupport holds the real parts other packages' tests run against:
// a fake Anthropic API (plain HTTP, or HTTPS with HTTP/2 and its own CA) that
// speaks the documented wire format byte for byte and records what it was
// sent, and starters for real upstream proxies from Debian (microsocks,
// dante-server, tinyproxy) on loopback, plus a delaying TCP relay.
//
// It is a normal package so that _test.go files anywhere can import it, and so
// that cmd/fakeapi can serve the same fake to benchmark scripts and SDK tests;
// production code must never import it. It knows nothing of Ferry's handler,
// routes or storage: it only plays the other side of the wire.
//
// The fake's canned bodies are deterministic and exposed (Body, ExpectedBody,
// ExpectedUsage), so a test can assert that what came out of the proxy is
// byte-identical to what the upstream sent, and that usage was counted right.
package testsupport

// Package route owns the ways out of this machine: a Route names one
// upstream (direct, a SOCKS5 proxy, or an HTTP/HTTPS CONNECT proxy), an
// Upstream turns it into a pooled http.Transport whose dialer speaks that
// proxy's protocol itself, and the Manager keeps several named routes,
// probes them, and orders the candidate routes of each request.
//
// The road (issue 9), one file per concern:
//
//	candidates.go  the ordered candidates of a request and the outcome reports
//	breaker.go     3 road failures in a row open a route; a probe half-opens it
//	sticky.go      an account (organisation, key hash, session) keeps its route
//	tlsdial.go     Ferry's own TLS with the API host: key shares, ALPN
//	learnt.go      HTTP/1.1 and classic key shares learnt from failures, persisted
//	warm.go        a connection kept open ahead of need (Transport.NewClientConn)
//	probe.go       hop timings and an HTTP/2 PING on the probe's own connection
//	fields.go      the route fields `ferry routes set` changes
//
// Dial failures come back as *DialError with a Stage, TLS failures as
// *TLSError, so the proxy can say exactly what failed and where without
// string matching. Credentials in a route's URL never leave this package
// unmasked except through Route.URL; a credential used to keep an account
// on its route is kept only as a hash.
//
// It knows nothing of HTTP handlers, the Anthropic API's bodies, storage or
// the UI: it persists through the small Settings interface, reports
// through an *events.Bus and counts through RoadMetrics.
package route

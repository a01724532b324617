// Package route owns the ways out of this machine: a Route names one
// upstream (direct, a SOCKS5 proxy, or an HTTP/HTTPS CONNECT proxy), an
// Upstream turns it into a pooled http.Transport whose dialer speaks that
// proxy's protocol itself, and the Manager keeps several named routes,
// probes them, and tells the proxy which one serves the next request.
//
// Dial failures come back as *DialError with a Stage, so the proxy can say
// exactly what failed and where without string matching. Credentials in a
// route's URL never leave this package unmasked except through Route.URL.
//
// It knows nothing of HTTP handlers, the Anthropic API, storage or the UI:
// it persists through the small Settings interface and reports through an
// *events.Bus.
package route

// Package sse reads Server-Sent Events frames out of a byte stream that
// someone else is forwarding.
//
// It owns one thing: cutting a stream into frames (event name, joined data
// lines and the frame's exact raw bytes) the way the WHATWG EventSource parser
// does, whatever the network split the bytes into. It is built for the
// streaming hot path of the proxy: frames that fit in one Feed are reported
// without copying, and the scanner keeps at most one incomplete frame (bounded
// by Max) in memory.
//
// It only observes. Callers forward the bytes to the client themselves; the
// scanner never changes, delays or withholds what the client gets. It knows
// nothing of HTTP beyond the stream's media type, of the Anthropic event
// vocabulary beyond interning the common event names and keeping, in a
// Summary, the few frames that carry usage, or of usage accounting.
package sse

package proxy

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
)

// requestIDKey is the context key of Ferry's request id, given at the
// front door so that everything after it (a panic's log line included)
// names the same request.
type requestIDKey struct{}

// RequestIDFrom returns the request id the front door gave r, or "" when
// r did not come through it (a handler served directly, as in tests).
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// frontDoor is what the server runs before the proxy sees a request:
// the checks that must come before anything is recorded (issue 14).
//
//   - A panic is logged at warn level with the request id and ends the
//     connection; http.ErrAbortHandler, which Ferry panics with on
//     purpose to cut a broken stream, passes through silently.
//   - A request target over MaxTarget gets Ferry's 414.
//   - The guards (Host, Origin, Fetch-Metadata, CONNECT) refuse here:
//     refusals are counted in a metric and logged at most once a minute,
//     never recorded in the history.
//   - A plain-http API base on another host is flagged in
//     x-ferry-warning on every answer.
func (p *Proxy) frontDoor(next http.Handler) http.Handler {
	warn := plainHTTPWarning(p.base)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := p.newID()
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			p.log.Warn("handler panicked; connection closed", "id", id, "method", TruncatePath(r.Method),
				"path", TruncatePath(r.URL.Path), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			panic(http.ErrAbortHandler)
		}()
		if n := len(r.RequestURI); n > MaxTarget {
			p.countRefusal(RefusedTarget, r.Method, r.URL.Path, http.StatusRequestURITooLong)
			writeRefusal(w, targetTooLong(n), id)
			return
		}
		if _, gerr := p.guard(r); gerr != nil {
			p.refused(r, gerr)
			writeRefusal(w, gerr, id)
			return
		}
		if warn != "" {
			w.Header().Add(headerFerryWarning, warn)
		}
		next.ServeHTTP(w, r)
	})
}

// writeRefusal answers a refused request in Anthropic's error shape.
func writeRefusal(w http.ResponseWriter, e *Error, id string) {
	h := w.Header()
	for k, vv := range e.Header {
		h[http.CanonicalHeaderKey(k)] = vv
	}
	writeErrorBody(w, e.Status, e.Type, e.Message, id)
}

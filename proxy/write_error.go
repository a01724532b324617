package proxy

import (
	"net/http"

	"github.com/ferry-gateway/ferry/proxy/reply"
)

// WriteError answers w in Anthropic's error shape with the x-ferry-error
// header: for handlers mounted with HandleAdmin and other packages' admin
// endpoints, so that every refusal Ferry makes looks the same. The writer
// itself lives in the leaf package reply, which packages that may not
// import proxy (proxy/usage) use directly.
func WriteError(w http.ResponseWriter, status int, errType, message string) {
	reply.Error(w, status, errType, message)
}

// writeErrorBody writes the error shape; requestID may be "". Headers the
// caller set before stay.
func writeErrorBody(w http.ResponseWriter, status int, errType, message, requestID string) int {
	return reply.ErrorWithID(w, status, errType, message, requestID)
}

// WriteJSON answers w with v as indented JSON, never cached: the one shape
// of every admin answer (reply.JSON).
func WriteJSON(w http.ResponseWriter, v any) { reply.JSON(w, v) }

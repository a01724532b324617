package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// WriteError answers w in Anthropic's error shape with the x-ferry-error
// header: for handlers mounted with HandleAdmin and other packages' admin
// endpoints, so that every refusal Ferry makes looks the same.
func WriteError(w http.ResponseWriter, status int, errType, message string) {
	writeErrorBody(w, status, errType, message, "")
}

// writeErrorBody writes the error shape; requestID may be "". Headers the
// caller set before stay.
func writeErrorBody(w http.ResponseWriter, status int, errType, message, requestID string) int {
	var body errorJSON
	body.Type = "error"
	body.Error.Type, body.Error.Message = errType, message
	body.RequestID = requestID
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set(headerFerryError, "1")
	w.WriteHeader(status)
	n, _ := w.Write(b)
	return n
}

// WriteJSON answers w with v as indented JSON, never cached: the one shape
// of every admin answer. An encoding failure becomes Ferry's 500.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		WriteError(w, http.StatusInternalServerError, TypeAPI, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

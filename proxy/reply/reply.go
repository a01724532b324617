package reply

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// HeaderError marks a response Ferry wrote itself rather than relayed
// from the upstream.
const HeaderError = "X-Ferry-Error"

// Anthropic error.type values Ferry sends.
const (
	TypeInvalidRequest  = "invalid_request_error"
	TypeAuthentication  = "authentication_error"
	TypePermission      = "permission_error"
	TypeNotFound        = "not_found_error"
	TypeRequestTooLarge = "request_too_large"
	TypeRateLimit       = "rate_limit_error"
	TypeAPI             = "api_error"
	TypeTimeout         = "timeout_error"
	TypeOverloaded      = "overloaded_error"
)

// ErrorBody is Anthropic's error shape. RequestID is "" when Ferry has no
// id for the request (an admin endpoint); it is always present, as in
// Anthropic's own errors.
type ErrorBody struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// Error answers w in Anthropic's error shape with the X-Ferry-Error
// header.
func Error(w http.ResponseWriter, status int, errType, message string) {
	ErrorWithID(w, status, errType, message, "")
}

// ErrorWithID is Error with the request id in the body ("" leaves it out).
// Headers the caller set before stay. It returns the body bytes written.
func ErrorWithID(w http.ResponseWriter, status int, errType, message, requestID string) int {
	var body ErrorBody
	body.Type = "error"
	body.Error.Type, body.Error.Message = errType, message
	body.RequestID = requestID
	b, _ := json.Marshal(body) // a struct of strings always encodes
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set(HeaderError, "1")
	w.WriteHeader(status)
	n, _ := w.Write(b)
	return n
}

// JSON answers w with v as indented JSON, never cached: the one shape of
// every admin answer. An encoding failure becomes Ferry's 500.
func JSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		Error(w, http.StatusInternalServerError, TypeAPI, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

package testsupport

import "encoding/json"

// errorTypes is the documented status → error.type table.
var errorTypes = map[int]string{
	400: "invalid_request_error",
	401: "authentication_error",
	402: "billing_error",
	403: "permission_error",
	404: "not_found_error",
	413: "request_too_large",
	429: "rate_limit_error",
	500: "api_error",
	504: "timeout_error",
	529: "overloaded_error",
}

var errorMessages = map[int]string{
	400: "messages: field required",
	401: "invalid x-api-key",
	402: "Your credit balance is too low to access the Anthropic API.",
	403: "Your API key does not have permission to use the specified resource.",
	404: "Not found",
	413: "Request exceeds the maximum allowed number of bytes.",
	429: "Number of request tokens has exceeded your per-minute rate limit",
	500: "Internal server error",
	504: "Request timed out",
	529: "Overloaded",
}

// ErrorBody is the API's error shape for status (with its documented type).
func ErrorBody(status int, message, requestID string) []byte {
	typ, ok := errorTypes[status]
	if !ok {
		typ = "api_error"
	}
	e := apiError{Type: "error", RequestID: requestID}
	e.Error.Type, e.Error.Message = typ, message
	b, _ := json.Marshal(e)
	return b
}

// apiError is the API's error shape (../shared/anthropic-api.md).
type apiError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

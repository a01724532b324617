package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// WriteError answers w in Anthropic's error shape with the x-ferry-error
// header, for handlers mounted with HandleAdmin. requestID may be "".
func WriteError(w http.ResponseWriter, status int, errType, message string) {
	var body errorJSON
	body.Type = "error"
	body.Error.Type, body.Error.Message = errType, message
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set(headerFerryError, "1")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

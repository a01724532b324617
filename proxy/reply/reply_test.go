package reply

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestError: the body is Anthropic's error shape byte for byte (request_id
// always present, as the API sends it), marked as Ferry's own answer.
func TestError(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Retry-After", "3")
	n := ErrorWithID(w, http.StatusTooManyRequests, TypeRateLimit, "slow down", "req_1")
	want := `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"}`
	if got := w.Body.String(); got != want || n != len(want) {
		t.Fatalf("body %s (%d bytes), want %s", got, n, want)
	}
	if w.Code != 429 || w.Header().Get(HeaderError) != "1" || w.Header().Get("Retry-After") != "3" ||
		w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("status %d, header %v", w.Code, w.Header())
	}
	w = httptest.NewRecorder()
	Error(w, http.StatusNotFound, TypeNotFound, "no")
	if got := w.Body.String(); got != `{"type":"error","error":{"type":"not_found_error","message":"no"},"request_id":""}` {
		t.Errorf("body %s", got)
	}
}

// TestJSON: indented, never cached; a value that cannot be encoded is
// Ferry's 500 in the error shape, not a half-written body.
func TestJSON(t *testing.T) {
	w := httptest.NewRecorder()
	JSON(w, map[string]int{"a": 1})
	if w.Body.String() != "{\n  \"a\": 1\n}\n" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("body %q, header %v", w.Body.String(), w.Header())
	}
	w = httptest.NewRecorder()
	JSON(w, math.Inf(1))
	var body ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 500 || body.Error.Type != TypeAPI {
		t.Errorf("status %d, body %s (%v)", w.Code, w.Body.String(), err)
	}
}

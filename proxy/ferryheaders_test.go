package proxy

import (
	"net/http"
	"testing"
)

func TestRemoveFerryHeaders(t *testing.T) {
	h := http.Header{
		"X-Ferry-Admin-Token": {"admin-secret"},
		"X-Ferry-Token":       {testToken},
		"x-ferry-lowercase":   {"set by a hook"},
		"X-Ferry-":            {"bare prefix"},
		"X-Api-Key":           {clientKey},
		"X-Ferryman":          {"not ours"},
		"Anthropic-Version":   {"2023-06-01"},
	}
	switches := removeFerryHeaders(h)
	for k := range h {
		if k != "X-Api-Key" && k != "X-Ferryman" && k != "Anthropic-Version" {
			t.Errorf("%s survived", k)
		}
	}
	if len(h) != 3 {
		t.Errorf("headers left: %v", h)
	}
	// The switches stay readable by the stages; the tokens never do.
	if switches.Get("X-Ferry-Lowercase") != "set by a hook" || switches.Get("X-Ferry-Admin-Token") != "" || switches.Get("X-Ferry-Token") != "" {
		t.Errorf("switches %v", switches)
	}
}

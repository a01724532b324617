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
	RemoveFerryHeaders(h)
	for k := range h {
		if k != "X-Api-Key" && k != "X-Ferryman" && k != "Anthropic-Version" {
			t.Errorf("%s survived", k)
		}
	}
	if len(h) != 3 {
		t.Errorf("headers left: %v", h)
	}
}

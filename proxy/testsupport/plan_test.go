package testsupport

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// Cached canned plans never leak into request-dependent answers.
func TestPlanCacheKeepsRequestDependentAnswers(t *testing.T) {
	f := NewFakeAPI(t)
	get := func(path string) string {
		resp, err := f.Client().Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	all := get("/v1/models")
	page := get("/v1/models?limit=1")
	if all == page || !strings.Contains(page, `"has_more":true`) {
		t.Fatalf("limit ignored after a cached answer: %s", page)
	}
	_, a, _ := post(t, f, "", "/v1/messages/count_tokens", `{"a":1}`)
	_, b, _ := post(t, f, "", "/v1/messages/count_tokens", `{"a":1, "more": "text here"}`)
	if bytes.Equal(a, b) {
		t.Fatalf("count_tokens answers do not follow the body: %s", a)
	}
	for range 2 {
		_, body, _ := post(t, f, ScenarioLarge+";frames=50", "/v1/messages", `{}`)
		if !bytes.Equal(body, f.ExpectedBody(ScenarioLarge+";frames=50")) {
			t.Fatal("cached plan differs")
		}
	}
}

package brake

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// lastIndex must answer exactly as bytes.LastIndex: on fixed cases and on
// random bodies over a small alphabet, where the word overlaps itself.
func TestLastIndexIsBytesLastIndex(t *testing.T) {
	word := []byte(`"tool_use"`)
	for _, body := range []string{"", `"tool_use"`, `x"tool_use"y"tool_use"z`, `"tool_use""tool_use"`, `no tools here`, `"tool_us`} {
		if got, want := lastIndex([]byte(body), word), bytes.LastIndex([]byte(body), word); got != want {
			t.Errorf("%q: %d, want %d", body, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		body := make([]byte, r.IntN(40))
		for i := range body {
			body[i] = "ab"[r.IntN(2)]
		}
		w := make([]byte, 1+r.IntN(3))
		for i := range w {
			w[i] = "ab"[r.IntN(2)]
		}
		if got, want := lastIndex(body, w), bytes.LastIndex(body, w); got != want {
			t.Fatalf("lastIndex(%q, %q) = %d, want %d", body, w, got, want)
		}
	}
}

package proxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// A large body's key share is made ahead, beside the request filters, and
// used only when the filters left the body as it was: a redacted body is
// keyed as redacted. Small bodies are keyed in one go.
func TestKeyPrepUsedOnlyForTheUnchangedBody(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	digest := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	var mu sync.Mutex
	var keys []string
	var prepped []bool
	h := newHarness(t, fake.URL, func(o *Options) {
		o.KeyPrep = func(out *Outgoing) func() any {
			body := out.Body
			return func() any { return digest(body) }
		}
		o.Key = func(out *Outgoing) string {
			if v, ok := out.KeyPrep().(string); ok {
				mu.Lock()
				prepped = append(prepped, true)
				mu.Unlock()
				return v
			}
			mu.Lock()
			prepped = append(prepped, false)
			mu.Unlock()
			return digest(out.Body)
		}
		o.Stages = []Stage{
			{Phase: PhaseFilter, Name: "test filter", Run: func(_ context.Context, out *Outgoing) (*Response, error) {
				if bytes.Contains(out.Body, []byte("secret-word")) {
					out.Body = bytes.ReplaceAll(out.Body, []byte("secret-word"), []byte("[REDACTED]"))
				}
				return nil, nil
			}},
			{Phase: PhaseCache, Name: "key reader", Run: func(_ context.Context, out *Outgoing) (*Response, error) {
				mu.Lock()
				keys = append(keys, out.Key)
				mu.Unlock()
				return nil, nil
			}},
		}
	})
	body := func(words string, size int) []byte {
		return []byte(`{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"` +
			words + strings.Repeat("x", size) + `"}]}`)
	}
	cases := []struct {
		name    string
		body    []byte
		keyOf   []byte
		prepped bool
	}{
		{"large, left as it was", body("hello ", 40<<10), body("hello ", 40<<10), true},
		{"large, redacted", body("my secret-word ", 40<<10), body("my [REDACTED] ", 40<<10), false},
		{"small", body("hello ", 100), body("hello ", 100), false},
	}
	for i, tc := range cases {
		res, _ := h.do(t, "POST", "/v1/messages", tc.body, keyHeader(testToken))
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", tc.name, res.StatusCode)
		}
		mu.Lock()
		if keys[i] != digest(tc.keyOf) || prepped[i] != tc.prepped {
			t.Errorf("%s: key of the body as forwarded %v, prepared %v (want %v)", tc.name, keys[i] == digest(tc.keyOf), prepped[i], tc.prepped)
		}
		mu.Unlock()
	}
}

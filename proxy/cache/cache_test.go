package cache_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

const (
	msgBody    = `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"hello"}]}`
	streamBody = `{"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hello"}]}`
	countBody  = `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"count me"}]}`
)

// TestHitMissBypass: each cacheable endpoint answers a miss from upstream,
// then the same request from the cache, byte for byte, with the headers
// the issue lists; bypass and no-cache go upstream.
func TestHitMissBypass(t *testing.T) {
	cases := []struct {
		name string
		q    req
	}{
		{"message", req{body: msgBody}},
		{"stream", req{body: streamBody}},
		{"count_tokens", req{path: "/v1/messages/count_tokens", body: countBody}},
		{"models", req{method: "GET", path: "/v1/models?limit=5"}},
		{"model", req{method: "GET", path: "/v1/models/claude-sonnet-4-5-20250929"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			first := r.do(tc.q)
			if first.status != 200 || first.header.Get("X-Ferry-Cache") != "miss" {
				t.Fatalf("first: %d x-ferry-cache=%q %s", first.status, first.header.Get("X-Ferry-Cache"), first.body)
			}
			second := r.do(tc.q)
			if second.header.Get("X-Ferry-Cache") != "hit" {
				t.Fatalf("second: x-ferry-cache=%q", second.header.Get("X-Ferry-Cache"))
			}
			if !bytes.Equal(first.body, second.body) {
				t.Fatalf("replay differs:\n%q\n%q", first.body, second.body)
			}
			if n := r.upstreamCalls(); n != 1 {
				t.Fatalf("%d upstream calls, want 1", n)
			}
			rid := first.header.Get("Request-Id")
			if rid == "" || second.header.Get("Request-Id") != rid || second.header.Get("X-Ferry-Cache-Request-Id") != rid {
				t.Errorf("request ids: first %q, replay %q / %q", rid, second.header.Get("Request-Id"), second.header.Get("X-Ferry-Cache-Request-Id"))
			}
			if ct := second.header.Get("Content-Type"); ct != first.header.Get("Content-Type") {
				t.Errorf("content-type %q, want %q", ct, first.header.Get("Content-Type"))
			}
			if age, err := strconv.Atoi(second.header.Get("X-Ferry-Cache-Age")); err != nil || age < 0 {
				t.Errorf("x-ferry-cache-age %q", second.header.Get("X-Ferry-Cache-Age"))
			}
			for k := range second.header {
				if len(k) > 20 && http.CanonicalHeaderKey(k)[:20] == "Anthropic-Ratelimit-" || k == "Retry-After" {
					t.Errorf("replay carries %s", k)
				}
			}
			for _, h := range []map[string]string{{"X-Ferry-Cache": "bypass"}, {"Cache-Control": "no-cache"}, {"Cache-Control": "no-store"}} {
				q := tc.q
				q.header = h
				g := r.do(q)
				if g.header.Get("X-Ferry-Cache") != "bypass" {
					t.Errorf("%v: x-ferry-cache=%q", h, g.header.Get("X-Ferry-Cache"))
				}
			}
			if n := r.upstreamCalls(); n != 4 {
				t.Fatalf("%d upstream calls after three bypasses, want 4", n)
			}
			for _, rq := range r.fake.Requests() {
				if rq.Header.Get("X-Ferry-Cache") != "" {
					t.Fatal("x-ferry-cache went upstream")
				}
			}
		})
	}
}

// TestKeyEquality: respelled JSON hits; a different body, query, beta set
// or key misses; Claude Code's billing block with other values hits and
// is forwarded untouched.
func TestKeyEquality(t *testing.T) {
	r := newRig(t)
	base := req{body: msgBody, header: map[string]string{"Anthropic-Beta": "a-2025,b-2025"}}
	r.do(base)
	hits := map[string]req{
		"key order and whitespace": {body: " {\"messages\":[{\"content\":\"hello\",\"role\":\"user\"}],\n\"max_tokens\":100,\"model\":\"claude-sonnet-4-5\"}", header: base.header},
		"number spelling":          {body: `{"model":"claude-sonnet-4-5","max_tokens":1.00e2,"messages":[{"role":"user","content":"hello"}]}`, header: base.header},
		"beta order":               {body: msgBody, header: map[string]string{"Anthropic-Beta": "b-2025, a-2025"}},
	}
	for name, q := range hits {
		if g := r.do(q); g.header.Get("X-Ferry-Cache") != "hit" {
			t.Errorf("%s: %q, want hit", name, g.header.Get("X-Ferry-Cache"))
		}
	}
	misses := map[string]req{
		"other body":  {body: `{"model":"claude-sonnet-4-5","max_tokens":101,"messages":[{"role":"user","content":"hello"}]}`, header: base.header},
		"query":       {path: "/v1/messages?beta=true", body: msgBody, header: base.header},
		"beta set":    {body: msgBody, header: map[string]string{"Anthropic-Beta": "a-2025"}},
		"another key": {body: msgBody, header: map[string]string{"Anthropic-Beta": "a-2025,b-2025", "X-Api-Key": "sk-ant-api03-other"}},
	}
	for name, q := range misses {
		if g := r.do(q); g.header.Get("X-Ferry-Cache") != "miss" {
			t.Errorf("%s: %q, want miss", name, g.header.Get("X-Ferry-Cache"))
		}
	}

	billing := func(v string) string {
		return `{"model":"claude-sonnet-4-5","max_tokens":100,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.40; cch=` + v + `;"},{"type":"text","text":"You are Claude Code"}],"messages":[{"role":"user","content":"hi"}]}`
	}
	a := r.do(req{path: "/v1/messages?beta=true", body: billing("aaaa1")})
	b := r.do(req{path: "/v1/messages?beta=true", body: billing("bbbb2; cc_prompt_id=0c6b3a4e")})
	if a.header.Get("X-Ferry-Cache") != "miss" || b.header.Get("X-Ferry-Cache") != "hit" {
		t.Fatalf("billing block: %q then %q, want miss then hit", a.header.Get("X-Ferry-Cache"), b.header.Get("X-Ferry-Cache"))
	}
	last := r.fake.Last()
	if string(last.Body) != billing("aaaa1") {
		t.Fatalf("forwarded body changed: %s", last.Body)
	}
}

// TestNotStored: errors, error frames, cut streams are never stored.
func TestNotStored(t *testing.T) {
	for i, sc := range []string{
		testsupport.ScenarioRateLimited, testsupport.ScenarioOverloaded, testsupport.ScenarioError + ";status=400",
		testsupport.ScenarioStreamError, testsupport.ScenarioCutAfterStart, testsupport.ScenarioCutMidStream,
	} {
		t.Run(sc, func(t *testing.T) {
			r := newRig(t)
			q := req{body: fmt.Sprintf(`{"model":"claude-sonnet-4-5","max_tokens":%d,"stream":true,"messages":[]}`, i+1),
				header: map[string]string{testsupport.ScenarioHeader: sc}}
			r.try(t.Context(), q)
			r.settle()
			q.header = nil
			g := r.do(q)
			if g.header.Get("X-Ferry-Cache") == "hit" {
				t.Fatalf("%s was stored and served", sc)
			}
			if n := r.upstreamCalls(); n != 2 {
				t.Fatalf("%d upstream calls, want 2", n)
			}
		})
	}
}

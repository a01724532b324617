package reqkey

import (
	"fmt"
	"strings"
	"testing"
)

var testSecret = []byte("0123456789abcdef-per-install")

func TestKey(t *testing.T) {
	k, err := New(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	base := Request{
		Method: "POST", Path: "/v1/messages", RawQuery: "beta=true",
		Body:    []byte(`{"model":"claude-opus-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`),
		Version: "2023-06-01", Betas: []string{"oauth-2025-04-20,fine-grained-tool-streaming-2025-05-14"},
		FilterVersion: "f1", Credential: "sk-ant-api03-aaaa",
	}
	key := k.Key(base)
	if len(key) != 64 {
		t.Fatalf("key %q: want 64 hex digits", key)
	}
	with := func(f func(r *Request)) Request { r := base; f(&r); return r }
	same := map[string]Request{
		"body respelled": with(func(r *Request) {
			r.Body = []byte(` {"messages":[{"content":"hi","role":"user"}],"max_tokens":1e1,"model":"claude-opus-5"}`)
		}),
		"betas reordered": with(func(r *Request) { r.Betas = []string{"fine-grained-tool-streaming-2025-05-14", " oauth-2025-04-20 ,"} }),
		"betas repeated":  with(func(r *Request) { r.Betas = append(r.Betas, "oauth-2025-04-20") }),
	}
	for name, r := range same {
		if got := k.Key(r); got != key {
			t.Errorf("%s: key changed", name)
		}
	}
	differ := map[string]Request{
		"method": with(func(r *Request) { r.Method = "PUT" }),
		"path":   with(func(r *Request) { r.Path = "/v1/messages/count_tokens" }),
		"query":  with(func(r *Request) { r.RawQuery = "" }),
		"body": with(func(r *Request) {
			r.Body = []byte(`{"model":"claude-opus-5","max_tokens":11,"messages":[{"role":"user","content":"hi"}]}`)
		}),
		"version":        with(func(r *Request) { r.Version = "2024-01-01" }),
		"beta dropped":   with(func(r *Request) { r.Betas = []string{"oauth-2025-04-20"} }),
		"filter version": with(func(r *Request) { r.FilterVersion = "f2" }),
		"credential":     with(func(r *Request) { r.Credential = "sk-ant-api03-aaab" }),
		"invalid body":   with(func(r *Request) { r.Body = append(r.Body, ',') }),
		"field boundary": with(func(r *Request) { r.Path, r.RawQuery = "/v1/messagesbeta=true", "" }),
	}
	for name, r := range differ {
		if got := k.Key(r); got == key {
			t.Errorf("%s: key unchanged", name)
		}
	}
	other, _ := New([]byte("another-install-secret"))
	if other.Key(base) == key {
		t.Error("another install's secret gave the same key")
	}
	if !strings.Contains(fmt.Sprint(k.CredentialMAC(base.Credential)), "") || k.CredentialMAC("a") == k.CredentialMAC("b") {
		t.Error("credential MACs collide")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("short secret accepted")
	}
}

func TestKeyInvalidBodyIsRaw(t *testing.T) {
	k, _ := New(testSecret)
	a := k.Key(Request{Method: "POST", Path: "/v1/messages", Body: []byte(`{"a":1,}`)})
	b := k.Key(Request{Method: "POST", Path: "/v1/messages", Body: []byte(`{"a":1 ,}`)})
	if a == b {
		t.Error("two different invalid bodies share a key")
	}
	if k.Key(Request{Method: "GET", Path: "/v1/models"}) == k.Key(Request{Method: "GET", Path: "/v1/models", Body: []byte{}}) {
		return // nil and empty bodies are the same request
	}
	t.Error("nil and empty body differ")
}

// TestKeyBillingBlock: Claude Code's billing block changes on every
// request; two of its requests that differ only there share a key.
func TestKeyBillingBlock(t *testing.T) {
	k, _ := New(testSecret)
	a := ClaudeCodeBody(85_000, "cch=1a2b3; cc_prev_req=req_011CUx")
	b := ClaudeCodeBody(85_000, "cch=9f8e7; cc_prompt_id=0c6b3a4e-aaaa-bbbb-cccc-1234567890ab; cc_is_subagent=true")
	if string(a) == string(b) {
		t.Fatal("test bodies equal")
	}
	r := Request{Method: "POST", Path: "/v1/messages", RawQuery: "beta=true", Credential: "sk"}
	ra, rb := r, r
	ra.Body, rb.Body = a, b
	if k.Key(ra) != k.Key(rb) {
		t.Error("billing block changed the key")
	}
}

package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// TestStages drives the seam the cache, filters, limits and budgets use:
// answer, rewrite, refuse.
func TestStages(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	cached := fake.ExpectedBody(testsupport.ScenarioStream)
	var seenFP string
	hook := func(ctx context.Context, out *Outgoing) (*Response, error) {
		seenFP = out.KeyFingerprint
		if out.Header.Get("X-Api-Key") != testKey {
			return nil, errors.New("hook did not see the swapped key")
		}
		switch {
		case bytes.Contains(out.Body, []byte("cache-me")):
			return &Response{Header: http.Header{"Content-Type": {"text/event-stream"}, "Request-Id": {"req_cached"}},
				Body: io.NopCloser(bytes.NewReader(cached)), CacheHit: true}, nil
		case bytes.Contains(out.Body, []byte("secret-word")):
			out.Body = bytes.ReplaceAll(out.Body, []byte("secret-word"), []byte("[REDACTED]"))
			out.Header.Set("X-Filtered", "1")
		case bytes.Contains(out.Body, []byte("too-fast")):
			return nil, &Error{Status: 429, Type: TypeRateLimit, Message: "local rate limit: 10 requests per minute",
				Header: http.Header{"Retry-After": {"12"}}}
		case bytes.Contains(out.Body, []byte("boom")):
			return nil, errors.New("filter list unreadable")
		}
		if out.Model != "claude-opus-4-5" || out.Path != "/v1/messages" || out.RawQuery != "beta=true" || out.Method != "POST" {
			return nil, errors.New("hook saw the wrong request facts")
		}
		return nil, nil
	}
	h := newHarness(t, fake.URL, func(o *Options) { o.Stages = []Stage{{Phase: PhaseFilter, Name: "test filter", Run: hook}} })
	evs, cancel := h.bus.Subscribe(64)
	defer cancel()

	send := func(content string) (*http.Response, []byte) {
		body := `{"model":"claude-opus-4-5","stream":true,"messages":[{"role":"user","content":"` + content + `"}]}`
		return h.do(t, "POST", "/v1/messages?beta=true", []byte(body), keyHeader(testToken))
	}

	// Answered by the hook: never reaches the upstream, recorded as a cache hit.
	res, got := send("cache-me")
	if res.StatusCode != 200 || !bytes.Equal(got, cached) || res.Header.Get("Request-Id") != "req_cached" {
		t.Errorf("cache answer: %d %q", res.StatusCode, got)
	}
	rec := h.rec.next(t)
	if !rec.CacheHit || rec.Status != 200 || rec.RequestID != "req_cached" || rec.BytesOut != int64(len(cached)) {
		t.Errorf("cache record %+v", rec)
	}
	if o := h.lastObserver(); !bytes.Equal(o.body.Bytes(), cached) || o.response != 1 || o.done != 1 {
		t.Error("observer did not see the cached answer")
	}
	if len(fake.Requests()) != 0 {
		t.Error("a cached request reached the upstream")
	}
	if seenFP != fingerprint(testKey) {
		t.Errorf("hook fingerprint %q", seenFP)
	}

	// Rewritten: the upstream sees the new body with its length.
	res, _ = send("my secret-word here")
	rec = h.rec.next(t)
	last := fake.Last()
	if res.StatusCode != 200 || !strings.Contains(string(last.Body), "my [REDACTED] here") || last.BodyLen != int64(len(last.Body)) || last.Header.Get("X-Filtered") != "1" {
		t.Errorf("rewrite: %d upstream body %q", res.StatusCode, last.Body)
	}
	if o := h.lastObserver(); !strings.Contains(string(o.reqBody), "[REDACTED]") {
		t.Error("observer got the body before the rewrite")
	}

	// Refused with Ferry's error.
	res, got = send("too-fast")
	rec = h.rec.next(t)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "12" || res.Header.Get("X-Ferry-Error") != "1" || !strings.Contains(string(got), "local rate limit") {
		t.Errorf("refusal: %d %v %s", res.StatusCode, res.Header, got)
	}
	if rec.Status != 429 || rec.ErrorType != TypeRateLimit || rec.ErrorClass != storage.ClassClient4xx {
		t.Errorf("refusal record %+v", rec)
	}

	// A hook's own failure is Ferry's 500.
	res, got = send("boom")
	rec = h.rec.next(t)
	if res.StatusCode != 500 || !strings.Contains(string(got), "filter list unreadable") || rec.ErrorClass != storage.ClassFerry {
		t.Errorf("hook failure: %d %s %+v", res.StatusCode, got, rec)
	}

	// Plain request passes.
	if res, _ := send("hello"); res.StatusCode != 200 {
		t.Errorf("plain: %d", res.StatusCode)
	}
	h.rec.next(t)

	// Exactly one RequestFinished per request, matching the records.
	var finished int
	deadline := time.After(5 * time.Second)
	for finished < 5 {
		select {
		case e := <-evs:
			if e.Kind == events.RequestFinished && e.Record != nil {
				finished++
			}
		case <-deadline:
			t.Fatalf("%d RequestFinished events for 5 requests", finished)
		}
	}
	select {
	case e := <-evs:
		t.Errorf("extra event %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
	if n := len(h.rec.all()); n != 5 {
		t.Errorf("%d records for 5 requests", n)
	}
	h.obsMu.Lock()
	for i, o := range h.obs {
		if o.done != 1 {
			t.Errorf("observer %d: Done called %d times", i, o.done)
		}
	}
	h.obsMu.Unlock()
}

// TestOneRecordPerOutcome: every outcome gives exactly one record, one
// observer Done and one event.
func TestOneRecordPerOutcome(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, func(o *Options) { o.MaxBody = 1000 })
	evs, cancel := h.bus.Subscribe(64)
	defer cancel()
	type req struct {
		path, scenario, body string
		hdr                  http.Header
	}
	reqs := []req{
		{path: "/v1/messages", scenario: testsupport.ScenarioStream, body: `{"stream":true}`},
		{path: "/v1/messages", scenario: testsupport.ScenarioCutMidStream, body: `{"stream":true}`},
		{path: "/v1/messages", scenario: testsupport.ScenarioOverloaded, body: `{}`},
		{path: "/v1/messages", body: strings.Repeat("x", 2000)},
		{path: "/v1/messages/count_tokens", scenario: testsupport.ScenarioCountTokens, body: `{"model":"m"}`},
		{path: "/v1/models", scenario: testsupport.ScenarioModels},
	}
	// A guard's refusal (a page's Origin) is counted, never recorded:
	// the counts below leave it out.
	evil := keyHeader(clientKey)
	evil.Set("Origin", "https://evil.example.com")
	if res, _ := h.do(t, "POST", "/v1/messages", []byte(`{}`), evil); res.StatusCode != 403 {
		t.Fatalf("evil origin: %d", res.StatusCode)
	}
	for _, r := range reqs {
		hdr := keyHeader(clientKey)
		for k, v := range r.hdr {
			hdr[k] = v
		}
		if r.scenario != "" {
			hdr.Set(testsupport.ScenarioHeader, r.scenario)
		}
		method := "POST"
		if r.body == "" {
			method = "GET"
		}
		h.do(t, method, r.path, []byte(r.body), hdr)
		h.rec.next(t)
	}
	n := 0
	for n < len(reqs) {
		select {
		case <-evs:
			n++
		case <-time.After(5 * time.Second):
			t.Fatalf("%d events for %d requests", n, len(reqs))
		}
	}
	if got := len(h.rec.all()); got != len(reqs) {
		t.Errorf("%d records for %d requests", got, len(reqs))
	}
	h.obsMu.Lock()
	defer h.obsMu.Unlock()
	if len(h.obs) != len(reqs) {
		t.Errorf("%d observers for %d requests", len(h.obs), len(reqs))
	}
	for i, o := range h.obs {
		if o.done != 1 {
			t.Errorf("observer %d Done %d times", i, o.done)
		}
	}
}

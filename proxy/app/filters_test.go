package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

const filterSecret = "ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08"

// filterBody is a Claude Code-shaped turn whose tool result holds a .env.
func filterBody(env string) string {
	return `{"model":"claude-sonnet-4-6","max_tokens":64,` +
		`"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.3; cch=1;"},{"type":"text","text":"You are Claude Code."}],` +
		`"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":` + jsonQuote(env) + `}]}]}`
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFiltersThroughARealCore: with the built-in secrets list (on by
// default) a secret in a tool result never reaches the upstream, every
// other byte does, unchanged; the hit is recorded without the text and
// announced once a day; a block list refuses the request with Ferry's 400
// and the upstream sees nothing.
func TestFiltersThroughARealCore(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	srv := sdkStartFerry(t, fake, "")
	key := map[string]string{"x-api-key": sdkRealKey}
	evs, cancel := srv.Bus().Subscribe(64)
	defer cancel()

	body := filterBody("PORT=8080\nGITHUB_TOKEN=" + filterSecret + "\n")
	if code, _, out := spendCall(t, srv, "POST", "/v1/messages", body, key); code != 200 {
		t.Fatalf("message: %d %s", code, out)
	}
	got := string(fake.Last().Body)
	placeholder := srv.Filters().Set().Placeholder("github-token", []byte(filterSecret))
	if want := strings.Replace(body, filterSecret, placeholder, 1); got != want {
		t.Fatalf("upstream got\n%s\nwant\n%s", got, want)
	}
	if h := fake.Last().Header.Get("Content-Length"); h != fmt.Sprint(len(got)) {
		t.Errorf("content-length %s for %d bytes", h, len(got))
	}
	// A clean body goes byte for byte.
	clean := filterBody("PORT=8080\n")
	spendCall(t, srv, "POST", "/v1/messages", clean, key)
	if string(fake.Last().Body) != clean {
		t.Fatal("clean body changed")
	}
	// The same secret again: no second notice today.
	spendCall(t, srv, "POST", "/v1/messages", body, key)

	notices := 0
	timeout := time.After(5 * time.Second)
	for done := false; !done; {
		select {
		case e := <-evs:
			if e.Kind == events.FilterRedacted {
				notices++
				if e.Attrs["rule"] != "github-token" || e.Attrs["list"] != "secrets" || strings.Contains(e.Detail, filterSecret) {
					t.Errorf("notice %+v", e)
				}
			}
		case <-timeout:
			done = true
		}
		if notices > 0 && len(evs) == 0 {
			time.Sleep(200 * time.Millisecond)
			done = len(evs) == 0
		}
	}
	if notices != 1 {
		t.Errorf("%d notices, want 1 a day", notices)
	}

	// The record says which entry fired, never the text.
	var hits []storage.FilterHit
	deadline := time.Now().Add(10 * time.Second)
	for hits == nil && time.Now().Before(deadline) {
		recs, err := srv.DB().Records(0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if len(r.FilterHits) > 0 {
				hits = r.FilterHits
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(hits) != 1 || hits[0].List != "secrets" || hits[0].Entry != "4 github-token" || hits[0].Action != "redact" || hits[0].Count != 1 {
		t.Fatalf("record hits %+v", hits)
	}

	// A block list, added through the admin API.
	if code, _, out := spendCall(t, srv, "POST", "/_ferry/filters/banned/entries", `{"pattern":"机密项目","action":"block"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("add entry: %d %s", code, out)
	}
	n := len(fake.Requests())
	code, hdr, out := spendCall(t, srv, "POST", "/v1/messages", filterBody("关于机密项目"), key)
	if code != 400 || hdr.Get("x-ferry-error") != "1" || !strings.Contains(out, `"invalid_request_error"`) ||
		!strings.Contains(out, `entry 1 (banned-1) of filter list \"banned\"`) || !strings.Contains(out, "/rewind") || strings.Contains(out, "机密项目") {
		t.Fatalf("block: %d %s", code, out)
	}
	if len(fake.Requests()) != n {
		t.Fatal("a blocked request reached the upstream")
	}
}

// TestFilterAnswerThroughARealCore: with answers redacted (opt-in), a
// secret the model streams, split across frames, reaches the client as
// the placeholder; the upstream was asked for plain text.
func TestFilterAnswerThroughARealCore(t *testing.T) {
	var sawEncoding atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		sawEncoding.Store(r.Header.Get("Accept-Encoding"))
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		frame := func(ev, data string) {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev, data)
			fl.Flush()
		}
		frame("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-6","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}`)
		frame("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
		for _, piece := range []string{"Use ", filterSecret[:9], filterSecret[9:], " now."} {
			frame("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+jsonQuote(piece)+`}}`)
		}
		frame("content_block_stop", `{"type":"content_block_stop","index":0}`)
		frame("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}`)
		frame("message_stop", `{"type":"message_stop"}`)
	}))
	defer up.Close()
	fake := &testsupport.FakeAPI{URL: up.URL}
	srv := sdkStartFerry(t, fake, "")
	if code, _, out := spendCall(t, srv, "POST", "/_ferry/filters/secrets/mode", `{"response":"redact"}`, adminHeaders(srv)); code != 200 {
		t.Fatalf("mode: %d %s", code, out)
	}
	code, _, out := spendCall(t, srv, "POST", "/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"token?"}]}`,
		map[string]string{"x-api-key": sdkRealKey})
	if code != 200 || strings.Contains(out, filterSecret[9:]) || strings.Contains(out, filterSecret[:9]) {
		t.Fatalf("%d\n%s", code, out)
	}
	placeholder := srv.Filters().Set().Placeholder("github-token", []byte(filterSecret))
	if !strings.Contains(out, placeholder) || !strings.Contains(out, "event: message_stop") {
		t.Fatalf("answer lacks the placeholder or its end:\n%s", out)
	}
	if enc, _ := sawEncoding.Load().(string); enc != "identity" {
		t.Errorf("upstream asked for %q, want identity", enc)
	}
}

package cache_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/cache"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// TestStreamsReplayedByteExact: a replayed stream is the upstream's bytes
// exactly (every event: line, ping, SSE comment, unknown event, and UTF-8
// split across frames), not a re-encoding of them.
func TestStreamsReplayedByteExact(t *testing.T) {
	r := newRig(t)
	for i, sc := range []string{testsupport.ScenarioStream, testsupport.ScenarioToolUse, testsupport.ScenarioThinking,
		testsupport.ScenarioUTF8Split, testsupport.ScenarioUnknownEvent, testsupport.ScenarioLarge + ";frames=300"} {
		t.Run(sc, func(t *testing.T) {
			q := req{body: fmt.Sprintf(`{"model":"claude-sonnet-4-5","max_tokens":%d,"stream":true,"messages":[]}`, 200+i),
				header: map[string]string{testsupport.ScenarioHeader: sc}}
			want := r.fake.ExpectedBody(sc)
			if g := r.do(q); !bytes.Equal(g.body, want) {
				t.Fatalf("relayed stream differs from the upstream's")
			}
			r.settle()
			g := r.do(q)
			if g.header.Get(cache.HeaderCache) != "hit" {
				t.Fatalf("second: %q", g.header.Get(cache.HeaderCache))
			}
			if !bytes.Equal(g.body, want) {
				t.Fatalf("replay differs from the upstream's bytes:\n%q\n%q", g.body, want)
			}
		})
	}
}

// TestGzipStoredIdentityServed: an answer stored gzip-encoded (its first
// client took gzip) is served decoded to a client that asked for
// identity, and as stored to one that takes gzip; the key ignores
// Accept-Encoding. A client asking identity while the gzip answer is in
// flight gets it decoded too.
func TestGzipStoredIdentityServed(t *testing.T) {
	r := newRig(t, withFake(testsupport.WithGzip(testsupport.GzipAccepted)))
	plain := r.fake.ExpectedBody(testsupport.ScenarioMessage)
	zipped := r.fake.ExpectedGzipBody(testsupport.ScenarioMessage)
	gz := map[string]string{"Accept-Encoding": "gzip"}
	id := map[string]string{"Accept-Encoding": "identity"}

	first := r.do(req{body: msgBody, header: gz})
	if first.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(first.body, zipped) {
		t.Fatalf("first: content-encoding %q", first.header.Get("Content-Encoding"))
	}
	if !r.fake.Last().Gzip {
		t.Fatal("the upstream did not gzip")
	}
	r.settle()
	g := r.do(req{body: msgBody, header: id})
	if g.header.Get(cache.HeaderCache) != "hit" || g.header.Get("Content-Encoding") != "" || !bytes.Equal(g.body, plain) {
		t.Fatalf("identity client: %q, content-encoding %q, body %q", g.header.Get(cache.HeaderCache), g.header.Get("Content-Encoding"), g.body)
	}
	if cl := g.header.Get("Content-Length"); cl != fmt.Sprint(len(plain)) {
		t.Errorf("content-length %s for %d bytes", cl, len(plain))
	}
	g = r.do(req{body: msgBody, header: gz})
	if g.header.Get(cache.HeaderCache) != "hit" || g.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(g.body, zipped) {
		t.Fatalf("gzip client: %q, content-encoding %q", g.header.Get(cache.HeaderCache), g.header.Get("Content-Encoding"))
	}
	if n := r.upstreamCalls(); n != 1 {
		t.Fatalf("%d upstream calls, want 1", n)
	}

	// In flight: the leader takes gzip, a follower asks identity.
	q := req{body: `{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[]}`,
		header: map[string]string{"Accept-Encoding": "gzip", testsupport.ScenarioHeader: "message;delay=500ms"}}
	var lead got
	var wg sync.WaitGroup
	wg.Go(func() { lead = r.do(q) })
	r.waitCalls(2)
	q.header = map[string]string{"Accept-Encoding": "identity"}
	follow := r.do(q)
	wg.Wait()
	if lead.header.Get("Content-Encoding") != "gzip" || !bytes.Equal(lead.body, zipped) {
		t.Fatalf("leader: content-encoding %q", lead.header.Get("Content-Encoding"))
	}
	if follow.header.Get(cache.HeaderCache) != "coalesced" || follow.header.Get("Content-Encoding") != "" || !bytes.Equal(follow.body, plain) {
		t.Fatalf("follower: %q, content-encoding %q, body %q", follow.header.Get(cache.HeaderCache), follow.header.Get("Content-Encoding"), follow.body)
	}
	if n := r.upstreamCalls(); n != 2 {
		t.Fatalf("%d upstream calls, want 2", n)
	}
}

// answers is an upstream that gives, per request, the answer named by
// its x-answer header: the answers the fake API doesn't have.
type answers struct {
	mu    sync.Mutex
	calls int
}

const (
	sseHead  = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
	sseStart = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
	sseText  = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
	sseStop  = "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
	sseEnd   = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
)

func sseDelta(reason string) string {
	return "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + reason + "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":3}}\n\n"
}

func message(content, reason string) string {
	return `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":` + content +
		`,"stop_reason":"` + reason + `","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":3}}`
}

// answerBodies are the answers by name; the "ok" ones are worth storing.
var answerBodies = map[string]string{
	"ok":              message(`[{"type":"text","text":"Hi"}]`, "end_turn"),
	"refusal":         message(`[{"type":"text","text":"I can't help with that."}]`, "refusal"),
	"pause_turn":      message(`[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"q"}}]`, "pause_turn"),
	"empty":           message(`[]`, "end_turn"),
	"empty_text":      message(`[{"type":"text","text":""}]`, "end_turn"),
	"stream_ok":       sseHead + sseStart + sseText + sseStop + sseDelta("end_turn") + sseEnd,
	"stream_refusal":  sseHead + sseStart + sseText + sseStop + sseDelta("refusal") + sseEnd,
	"stream_pause":    sseHead + sseStart + sseText + sseStop + sseDelta("pause_turn") + sseEnd,
	"stream_empty":    sseHead + sseStart + sseStop + sseDelta("end_turn") + sseEnd,
	"stream_no_block": sseHead + sseDelta("end_turn") + sseEnd,
	"stream_no_stop":  sseHead + sseStart + sseText + sseStop + sseDelta("end_turn"),
	"count_ok":        `{"input_tokens":42}`,
	"count_wrong":     `{"tokens":42}`,
}

func (a *answers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	a.mu.Lock()
	a.calls++
	a.mu.Unlock()
	name := r.Header.Get("X-Answer")
	body, ok := answerBodies[name]
	if !ok {
		http.Error(w, "no such answer", http.StatusTeapot)
		return
	}
	if strings.HasPrefix(name, "stream") {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Request-Id", "req_"+name)
	io.WriteString(w, body)
}

func (a *answers) count() int { a.mu.Lock(); defer a.mu.Unlock(); return a.calls }

// TestUselessNotStored: refusals, pause_turn, empty answers and streams
// without content or message_stop are relayed but never stored (a cached
// empty answer would be served to every retry); useful ones are.
func TestUselessNotStored(t *testing.T) {
	up := &answers{}
	r := newRig(t, withUpstream(up))
	for i, tc := range []struct {
		answer string
		path   string
		stored bool
	}{
		{"ok", "", true},
		{"refusal", "", false},
		{"pause_turn", "", false},
		{"empty", "", false},
		{"empty_text", "", false},
		{"stream_ok", "", true},
		{"stream_refusal", "", false},
		{"stream_pause", "", false},
		{"stream_empty", "", false},
		{"stream_no_block", "", false},
		{"stream_no_stop", "", false},
		{"count_ok", "/v1/messages/count_tokens", true},
		{"count_wrong", "/v1/messages/count_tokens", false},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			stream := ""
			if strings.HasPrefix(tc.answer, "stream") {
				stream = `"stream":true,`
			}
			q := req{path: tc.path, body: fmt.Sprintf(`{"model":"claude-sonnet-4-5",%s"max_tokens":%d,"messages":[]}`, stream, 300+i),
				header: map[string]string{"X-Answer": tc.answer}}
			calls := up.count()
			first := r.do(q)
			if first.status != 200 || string(first.body) != answerBodies[tc.answer] {
				t.Fatalf("relayed: %d %q", first.status, first.body)
			}
			r.settle()
			second := r.do(q)
			if hit := second.header.Get(cache.HeaderCache) == "hit"; hit != tc.stored {
				t.Fatalf("second: %q, stored want %v", second.header.Get(cache.HeaderCache), tc.stored)
			}
			if !bytes.Equal(second.body, first.body) {
				t.Fatalf("second answer differs: %q", second.body)
			}
			want := 2
			if tc.stored {
				want = 1
			}
			if n := up.count() - calls; n != want {
				t.Fatalf("%d upstream calls, want %d", n, want)
			}
		})
	}
}

package filter_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/filter"
	"github.com/ferry-gateway/ferry/storage"
)

const (
	secret = "ghp_JDCTbyvHNsG9eh6Yo4gfqrc5XlrWi0B26R08"
	oauth  = "sk-ant-oat01-Y-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po_799NksnRH9ucAUsdMlHUvTCQCyEZD"
)

type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) FilterLists() (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range s.m {
		out[k] = v
	}
	return out, nil
}
func (s *memStore) PutFilterList(n string, v []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[n] = v
	return nil
}
func (s *memStore) DeleteFilterList(n string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, n)
	return nil
}

type records struct {
	mu   sync.Mutex
	recs []storage.Record
}

func (r *records) Record(rec storage.Record) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

func (r *records) last(t *testing.T) storage.Record {
	t.Helper()
	for range 200 {
		r.mu.Lock()
		n := len(r.recs)
		r.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.recs) == 0 {
		t.Fatal("no record")
	}
	rec := r.recs[len(r.recs)-1]
	r.recs = nil
	return rec
}

// rig is a real proxy core with the filter stage, in front of an upstream
// that records what it got and answers what the test says.
type rig struct {
	m      *filter.Manager
	ferry  *httptest.Server
	recs   *records
	mu     sync.Mutex
	bodies []string
	hdrs   []http.Header
	answer func(w http.ResponseWriter)
	events []events.Event
}

func newRig(t *testing.T) *rig {
	t.Helper()
	g := &rig{recs: &records{}}
	var err error
	if g.m, err = filter.NewManager(&memStore{}, []byte("install key")); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.bodies = append(g.bodies, string(b))
		g.hdrs = append(g.hdrs, r.Header.Clone())
		answer := g.answer
		g.mu.Unlock()
		if answer != nil {
			answer(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"ok"}],"model":"claude-sonnet-4-6","stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`)
	}))
	t.Cleanup(up.Close)
	base, _ := url.Parse(up.URL)
	p, err := proxy.New(proxy.Options{
		APIBase:  base,
		Recorder: g.recs,
		Logger:   slog.New(slog.DiscardHandler),
		Stages: []proxy.Stage{g.m.Stage(filter.StageOptions{Publish: func(e events.Event) {
			g.mu.Lock()
			g.events = append(g.events, e)
			g.mu.Unlock()
		}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	g.ferry = httptest.NewServer(p)
	t.Cleanup(g.ferry.Close)
	return g
}

func (g *rig) setAnswer(f func(w http.ResponseWriter)) {
	g.mu.Lock()
	g.answer = f
	g.mu.Unlock()
}

func (g *rig) post(t *testing.T, path, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.ferry.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", "sk-ant-api03-client")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Del("x-api-key")
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (g *rig) upstream() (int, string, http.Header) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.bodies) == 0 {
		return 0, "", nil
	}
	return len(g.bodies), g.bodies[len(g.bodies)-1], g.hdrs[len(g.hdrs)-1]
}

func ccBody(system, result string) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return `{"model":"claude-sonnet-4-6","max_tokens":64,` +
		`"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.3; cch=1;"},{"type":"text","text":` + q(system) + `}],` +
		`"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":` + q(result) + `}]}]}`
}

func TestStageRedactsAndRecords(t *testing.T) {
	g := newRig(t)
	body := ccBody("You are Claude Code.", "GITHUB_TOKEN="+secret+"\n")
	for _, path := range []string{"/v1/messages", "/v1/messages/count_tokens"} {
		if code, _, out := g.post(t, path, body); code != 200 {
			t.Fatalf("%s: %d %s", path, code, out)
		}
		_, got, hdr := g.upstream()
		want := strings.Replace(body, secret, g.m.Set().Placeholder("github-token", []byte(secret)), 1)
		if got != want {
			t.Fatalf("%s: upstream got\n%s", path, got)
		}
		if hdr.Get("Content-Length") != fmt.Sprint(len(want)) {
			t.Fatalf("%s: content-length %s, body %d", path, hdr.Get("Content-Length"), len(want))
		}
		rec := g.recs.last(t)
		if len(rec.FilterHits) != 1 || rec.FilterHits[0] != (storage.FilterHit{List: "secrets", Entry: "4 github-token", Action: "redact", Count: 1}) {
			t.Fatalf("%s: record hits %+v", path, rec.FilterHits)
		}
	}
	g.mu.Lock()
	n := len(g.events)
	g.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d notices, want one a day", n)
	}
}

func TestStageBlocks(t *testing.T) {
	g := newRig(t)
	if _, err := g.m.Add("banned", filter.Entry{Pattern: "project falcon", Action: filter.Block}); err != nil {
		t.Fatal(err)
	}
	code, hdr, out := g.post(t, "/v1/messages", ccBody("x", "notes on PROJECT FALCON"))
	if code != 400 || hdr.Get("x-ferry-error") != "1" || !strings.Contains(out, `"type":"invalid_request_error"`) ||
		!strings.Contains(out, `filter list \"banned\"`) || strings.Contains(strings.ToLower(out), "falcon") {
		t.Fatalf("%d %s", code, out)
	}
	if n, _, _ := g.upstream(); n != 0 {
		t.Fatal("blocked request went upstream")
	}
}

// On a subscription, a secret in Claude Code's system prompt (right after
// the billing block) cannot be redacted: Anthropic would refuse the
// altered prefix. It is blocked; elsewhere it is redacted as usual.
func TestStageSubscription(t *testing.T) {
	g := newRig(t)
	code, _, out := g.post(t, "/v1/messages", ccBody("deploy key "+secret, "ok"), "Authorization", "Bearer "+oauth)
	if code != 400 || !strings.Contains(out, "subscription") || strings.Contains(out, secret) {
		t.Fatalf("%d %s", code, out)
	}
	if code, _, _ := g.post(t, "/v1/messages", ccBody("You are Claude Code.", secret), "Authorization", "Bearer "+oauth); code != 200 {
		t.Fatalf("tool result on a subscription: %d", code)
	}
	if _, got, _ := g.upstream(); strings.Contains(got, secret) {
		t.Fatal("secret left")
	}
}

func TestStageAnswers(t *testing.T) {
	g := newRig(t)
	if err := g.m.SetMode(filter.SecretsList, "", filter.Redact); err != nil {
		t.Fatal(err)
	}
	ph := g.m.Set().Placeholder("github-token", []byte(secret))
	// Whole answer: redacted, content-length follows.
	g.setAnswer(func(w http.ResponseWriter) {
		b := `{"id":"m","type":"message","role":"assistant","content":[{"type":"text","text":"use ` + secret + `"}],"usage":{"input_tokens":1,"output_tokens":1}}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		io.WriteString(w, b)
	})
	code, hdr, out := g.post(t, "/v1/messages", `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`)
	if code != 200 || !strings.Contains(out, `"use `+ph+`"`) || hdr.Get("Content-Length") != fmt.Sprint(len(out)) {
		t.Fatalf("%d %s %s", code, hdr.Get("Content-Length"), out)
	}
	if _, _, up := g.upstream(); up.Get("Accept-Encoding") != "identity" {
		t.Fatalf("accept-encoding %q", up.Get("Accept-Encoding"))
	}
	// Streamed: split across frames.
	g.setAnswer(func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, f := range []string{
			`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}`,
			`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"key ` + secret[:20] + `"}}`,
			`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"` + secret[20:] + ` end"}}`,
			`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":0}`,
			`event: message_delta` + "\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}}`,
			`event: message_stop` + "\n" + `data: {"type":"message_stop"}`,
		} {
			io.WriteString(w, f+"\n\n")
			w.(http.Flusher).Flush()
		}
	})
	code, _, out = g.post(t, "/v1/messages", `{"model":"m","max_tokens":1,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if code != 200 || !strings.Contains(out, `"text":"key `+ph+`"`) || strings.Contains(out, secret[20:]) || !strings.Contains(out, "message_stop") {
		t.Fatalf("%d\n%s", code, out)
	}
	rec := g.recs.last(t)
	if len(rec.FilterHits) == 0 || rec.FilterHits[len(rec.FilterHits)-1].Action != "answer:redact" {
		t.Fatalf("record hits %+v", rec.FilterHits)
	}
}

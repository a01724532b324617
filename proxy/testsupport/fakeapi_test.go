package testsupport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func post(t *testing.T, f *FakeAPI, scenario, path, body string, hdr ...string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if scenario != "" {
		req.Header.Set(ScenarioHeader, scenario)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func fakes(t *testing.T, opts ...Option) map[string]*FakeAPI {
	return map[string]*FakeAPI{"http": NewFakeAPI(t, opts...), "https-h2": NewFakeAPITLS(t, opts...)}
}

func TestStreamScenariosWellFormed(t *testing.T) {
	tests := []struct {
		scenario string
		complete bool // ends with message_stop
		cut      bool // the connection drops
	}{
		{ScenarioStream, true, false},
		{ScenarioToolUse, true, false},
		{ScenarioThinking, true, false},
		{ScenarioUTF8Split + ";split_gap=1ms", true, false},
		{ScenarioUnknownEvent, true, false},
		{ScenarioStreamError, false, false},
		{ScenarioCutAfterStart, false, true},
		{ScenarioCutMidStream, false, true},
		{ScenarioSlow + ";gap=5ms;total=50ms", true, false},
		{ScenarioLongGap + ";gap=20ms", true, false},
		{ScenarioLarge + ";frames=500", true, false},
		{ScenarioStream + ";model=claude-opus-4-5", true, false},
	}
	for name, f := range fakes(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.scenario, func(t *testing.T) {
				resp, body, err := post(t, f, tt.scenario, "/v1/messages?beta=true", `{"stream":true}`)
				if tt.cut != (err != nil) {
					t.Fatalf("read error %v, want a broken body: %v", err, tt.cut)
				}
				if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
					t.Fatalf("status %d, content-type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if want := f.ExpectedBody(tt.scenario); !bytes.Equal(body, want) {
					t.Fatalf("body differs from ExpectedBody:\n got %q\nwant %q", body, want)
				}
				frames, skipped := parseFrames(body)
				if skipped != 0 || len(frames) < 1 {
					t.Fatalf("%d frames, %d skipped", len(frames), skipped)
				}
				u, err := checkAnthropicStream(frames, tt.complete)
				if err != nil {
					t.Fatal(err)
				}
				if want := f.ExpectedUsage(tt.scenario); u != want {
					t.Fatalf("usage from the stream %+v, ExpectedUsage %+v", u, want)
				}
				if !utf8.Valid(body) {
					t.Fatal("body is not valid UTF-8")
				}
				rid := resp.Header.Get("request-id")
				if !strings.HasPrefix(rid, "req_") || resp.Header.Get("anthropic-ratelimit-requests-remaining") == "" {
					t.Fatalf("headers: %v", resp.Header)
				}
				rec := f.Last()
				wantProto := map[string]string{"http": "HTTP/1.1", "https-h2": "HTTP/2.0"}[name]
				if rec.Proto != wantProto || rec.URI != "/v1/messages?beta=true" || rec.RequestID != rid || rec.Scenario != tt.scenario {
					t.Fatalf("recorded %+v", rec)
				}
			})
		}
	}
}

func TestStreamModelParam(t *testing.T) {
	b, err := Body(ScenarioStream + ";model=claude-haiku-4-5")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"model":"claude-haiku-4-5"`)) {
		t.Fatalf("model not set: %s", b[:200])
	}
}

// The UTF-8 scenario's writes each end inside a character.
func TestUTF8SplitWrites(t *testing.T) {
	sp, err := parseScenario(ScenarioUTF8Split)
	if err != nil {
		t.Fatal(err)
	}
	p := buildPlan(sp, nil)
	mid := 0
	for _, s := range p.steps {
		if bytes.HasSuffix(s.data, []byte("\n\n")) {
			continue
		}
		mid++
		if r, size := utf8.DecodeLastRune(s.data); r != utf8.RuneError || size != 1 {
			t.Fatalf("piece does not end mid-character: %q", s.data)
		}
	}
	if mid < 2*len(utf8Texts) {
		t.Fatalf("only %d writes end mid-character", mid)
	}
	if !utf8.Valid(p.body()) {
		t.Fatal("the whole body is not valid UTF-8")
	}
	if !bytes.Contains(p.body(), []byte("🚢")) || !bytes.Contains(p.body(), []byte("你好")) {
		t.Fatal("no Chinese text or emoji")
	}
}

func TestMessage(t *testing.T) {
	for name, f := range fakes(t) {
		t.Run(name, func(t *testing.T) {
			resp, body, err := post(t, f, "", "/v1/messages", `{"model":"x","max_tokens":10,"messages":[]}`)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d err %v", resp.StatusCode, err)
			}
			if !bytes.Equal(body, f.ExpectedBody(ScenarioMessage)) {
				t.Fatalf("body %s", body)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Fatalf("content-length %q", resp.Header.Get("Content-Length"))
			}
			var m struct {
				Type  string
				Usage map[string]any
			}
			if err := json.Unmarshal(body, &m); err != nil || m.Type != "message" {
				t.Fatalf("%v %s", err, body)
			}
			var u Usage
			layUsage(&u, m.Usage)
			want := f.ExpectedUsage(ScenarioMessage)
			if u != want || want.CacheCreation5m == 0 || want.CacheCreation1h == 0 || want.CacheReadInputTokens == 0 || want.ServiceTier == "" {
				t.Fatalf("usage %+v, want %+v (with every class non-zero)", u, want)
			}
			if u.CacheCreationInputTokens != u.CacheCreation5m+u.CacheCreation1h {
				t.Fatalf("cache creation total %d != 5m+1h", u.CacheCreationInputTokens)
			}
		})
	}
}

func TestDefaultScenarioChoice(t *testing.T) {
	f := NewFakeAPI(t)
	resp, body, _ := post(t, f, "", "/v1/messages", `{"stream": true}`)
	if !bytes.Equal(body, f.ExpectedBody(ScenarioStream)) || resp.StatusCode != 200 {
		t.Fatalf("stream:true did not stream")
	}
	f.SetScenario(ScenarioToolUse)
	_, body, _ = post(t, f, "", "/v1/messages", `{}`)
	if !bytes.Equal(body, f.ExpectedBody(ScenarioToolUse)) {
		t.Fatalf("SetScenario ignored")
	}
	_, body, _ = post(t, f, ScenarioThinking, "/v1/messages", `{}`)
	if !bytes.Equal(body, f.ExpectedBody(ScenarioThinking)) {
		t.Fatalf("header does not override")
	}
	resp, _, _ = post(t, f, "", "/nowhere", `{}`)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
	g := NewFakeAPI(t, WithScenario(ScenarioStreamError))
	_, body, _ = post(t, g, "", "/v1/messages", `{}`)
	if !bytes.Equal(body, g.ExpectedBody(ScenarioStreamError)) {
		t.Fatalf("WithScenario ignored")
	}
}

func TestGzip(t *testing.T) {
	tests := []struct {
		mode   GzipMode
		param  string
		accept string
		want   bool
	}{
		{GzipNever, "", "gzip, br", false},
		{GzipAccepted, "", "gzip, deflate, br, zstd", true},
		{GzipAccepted, "", "br", false},
		{GzipAccepted, "", "gzip;q=0, br", false},
		{GzipAccepted, "", "", false},
		{GzipAlways, "", "", true},
		{GzipNever, ";gzip=accepted", "gzip", true},
		{GzipAlways, ";gzip=never", "gzip", false},
	}
	for _, sc := range []string{ScenarioStream, ScenarioMessage, ScenarioCutMidStream} {
		for i, tt := range tests {
			t.Run(fmt.Sprintf("%s/%d", sc, i), func(t *testing.T) {
				f := NewFakeAPI(t, WithGzip(tt.mode))
				hdr := []string{}
				if tt.accept != "" {
					hdr = []string{"Accept-Encoding", tt.accept}
				}
				resp, raw, err := post(t, f, sc+tt.param, "/v1/messages", `{}`, hdr...)
				if (err != nil) != (sc == ScenarioCutMidStream) {
					t.Fatalf("read: %v", err)
				}
				got := resp.Header.Get("Content-Encoding") == "gzip"
				if got != tt.want || f.Last().Gzip != tt.want {
					t.Fatalf("gzip %v, want %v", got, tt.want)
				}
				want := f.ExpectedBody(sc)
				if tt.want {
					if !bytes.Equal(raw, f.ExpectedGzipBody(sc)) {
						t.Fatal("gzip bytes differ from ExpectedGzipBody")
					}
					zr, err := gzip.NewReader(bytes.NewReader(raw))
					if err != nil {
						t.Fatal(err)
					}
					raw, err = io.ReadAll(zr)
					if (err != nil) != (sc == ScenarioCutMidStream) {
						t.Fatalf("gunzip: %v", err)
					}
				}
				if !bytes.Equal(raw, want) {
					t.Fatalf("decoded body differs:\n got %q\nwant %q", raw, want)
				}
			})
		}
	}
}

func TestCountTokensModelsOpenAIEcho(t *testing.T) {
	f := NewFakeAPITLS(t)
	body := `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`
	_, b, _ := post(t, f, "", "/v1/messages/count_tokens", body)
	if string(b) != fmt.Sprintf(`{"input_tokens":%d}`, CountTokens([]byte(body))) {
		t.Fatalf("count_tokens: %s", b)
	}

	get := func(path string) (int, map[string]any) {
		resp, err := f.Client().Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	var ids []string
	after := ""
	for page := 0; ; page++ {
		path := "/v1/models?limit=3"
		if after != "" {
			path += "&after_id=" + after
		}
		status, m := get(path)
		if status != 200 || page > 5 {
			t.Fatalf("models %d %v", status, m)
		}
		for _, d := range m["data"].([]any) {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		if m["has_more"] != true {
			break
		}
		after = m["last_id"].(string)
	}
	if len(ids) != len(Models) || ids[0] != Models[0].ID {
		t.Fatalf("paged ids %v", ids)
	}
	status, m := get("/v1/models?limit=2&before_id=" + Models[3].ID)
	if status != 200 || len(m["data"].([]any)) != 2 || m["first_id"] != Models[1].ID || m["has_more"] != true {
		t.Fatalf("before_id page %v", m)
	}
	if status, m := get("/v1/models/" + DefaultModel); status != 200 || m["display_name"] != "Claude Sonnet 4.5" {
		t.Fatalf("model by id %d %v", status, m)
	}
	if status, m := get("/v1/models/claude-nope"); status != 404 || m["error"].(map[string]any)["type"] != "not_found_error" {
		t.Fatalf("unknown model %d %v", status, m)
	}

	_, b, _ = post(t, f, "", "/v1/chat/completions", `{"model":"claude-sonnet-4-5"}`)
	var oa struct {
		Object string
		Usage  struct{ PromptTokens, CompletionTokens, TotalTokens int } `json:"usage"`
	}
	json.Unmarshal(b, &oa)
	if !bytes.Equal(b, f.ExpectedBody(ScenarioOpenAI)) || oa.Object != "chat.completion" {
		t.Fatalf("openai: %s", b)
	}
	_, b, _ = post(t, f, "", "/v1/chat/completions", `{"stream":true}`)
	if !bytes.Equal(b, f.ExpectedBody(ScenarioOpenAIStream)) || !bytes.HasSuffix(b, []byte("data: [DONE]\n\n")) {
		t.Fatalf("openai stream: %s", b)
	}
	frames, _ := parseFrames(b)
	if len(frames) != 6 || !bytes.Contains(frames[4].Data, []byte(`"usage":{"prompt_tokens":19`)) {
		t.Fatalf("openai frames %v", frames)
	}

	big := bytes.Repeat([]byte("ferry "), 200_000)
	_, b, _ = post(t, f, "", "/v1/files", string(big))
	sum := sha256.Sum256(big)
	if !bytes.Contains(b, []byte(fmt.Sprintf(`"bytes":%d,"sha256":"%x"`, len(big), sum))) {
		t.Fatalf("echo: %s", b)
	}
	if rec := f.Last(); rec.BodyLen != int64(len(big)) || !bytes.Equal(rec.Body, big) || rec.BodySHA != sum {
		t.Fatalf("recorded body len %d", rec.BodyLen)
	}
}

func TestRecordsRequest(t *testing.T) {
	f := NewFakeAPITLS(t)
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/v1/messages?beta=true", strings.NewReader(`{"model":"m"}`))
	req.Header.Set("x-api-key", "sk-ant-test")
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("anthropic-beta", "a,b")
	req.Header.Set("User-Agent", "claude-cli/2.0.0 (external, cli)")
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rs := f.WaitRequests(1, 10*time.Second)
	r := rs[0]
	if r.Method != "POST" || r.URI != "/v1/messages?beta=true" || r.Path != "/v1/messages" || string(r.Body) != `{"model":"m"}` ||
		r.Header.Get("x-api-key") != "sk-ant-test" || r.Header.Get("anthropic-beta") != "a,b" ||
		r.Header.Get("User-Agent") != "claude-cli/2.0.0 (external, cli)" || r.Proto != "HTTP/2.0" || !r.TLS ||
		r.Status != 200 || !r.Done || r.Cancelled || r.Seq != 1 || r.Host != f.Addr {
		t.Fatalf("recorded %+v", r)
	}
	f.Reset()
	if len(f.Requests()) != 0 {
		t.Fatal("Reset kept requests")
	}
}

// The fake sees the client leave: mid-stream, and while it holds back the
// response headers.
func TestCancellationSeen(t *testing.T) {
	for name, f := range fakes(t) {
		for _, sc := range []string{ScenarioSlow + ";gap=20ms;total=1h", ScenarioMessage + ";delay=1h"} {
			t.Run(name+"/"+sc, func(t *testing.T) {
				f.Reset()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+"/v1/messages", strings.NewReader(`{}`))
				req.Header.Set(ScenarioHeader, sc)
				errc := make(chan error, 1)
				go func() {
					resp, err := f.Client().Do(req)
					if err == nil {
						// Read a few frames, then hang up.
						buf := make([]byte, 4096)
						for i := 0; i < 3 && err == nil; i++ {
							_, err = resp.Body.Read(buf)
						}
						cancel()
						resp.Body.Close()
					}
					errc <- err
				}()
				if strings.Contains(sc, "delay") {
					f.WaitFor(10*time.Second, func(rs []Request) bool { return len(rs) == 1 })
					cancel()
				}
				r, ok := f.WaitCancelled(10 * time.Second)
				if !ok {
					t.Fatalf("the fake did not see the client leave: %+v", f.Requests())
				}
				if !r.Done || r.Seq == 0 {
					t.Fatalf("%+v", r)
				}
				<-errc
			})
		}
	}
}

// Close does not wait for a stream stuck in a long gap.
func TestCloseDuringGap(t *testing.T) {
	f, err := StartFakeAPI("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/v1/messages", strings.NewReader(`{}`))
		req.Header.Set(ScenarioHeader, ScenarioLongGap+";gap=1h")
		resp, err := f.Client().Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	f.WaitFor(10*time.Second, func(rs []Request) bool { return len(rs) == 1 && rs[0].Status == 200 })
	f.Close()
	f.Close()
	if r := f.Requests()[0]; !r.Done || r.Cancelled {
		t.Fatalf("%+v", r)
	}
}

func TestTLSCertificate(t *testing.T) {
	f := NewFakeAPITLS(t)
	if f.CAPath == "" || f.CertPool == nil || !strings.HasPrefix(f.URL, "https://") {
		t.Fatalf("%+v", f)
	}
	_, port, _ := net.SplitHostPort(f.Addr)
	for _, name := range []string{"127.0.0.1", "localhost", FakeHostname} {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{RootCAs: f.CertPool, ServerName: name, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
			t.Fatalf("ALPN %q", p)
		}
		conn.Close()
	}
	leaf, _ := tls.LoadX509KeyPair(f.CAPath[:len(f.CAPath)-len(CAFile)]+CertFile, f.CAPath[:len(f.CAPath)-len(CAFile)]+KeyFile)
	if err := leaf.Leaf.VerifyHostname("::1"); err != nil {
		t.Fatal(err)
	}
	// An HTTP/1.1-only client works too.
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.CertPool}}
	resp, err := (&http.Client{Transport: tr}).Get(f.URL + "/v1/models")
	if err != nil || resp.Proto != "HTTP/1.1" {
		t.Fatalf("%v %v", err, resp)
	}
	resp.Body.Close()
	// The cert dir is reused.
	g, err := StartFakeAPI("127.0.0.1:0", f.CAPath[:len(f.CAPath)-len(CAFile)])
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	resp, err = f.Client().Get(g.URL + "/v1/models")
	if err != nil {
		t.Fatalf("second fake with the same cert dir: %v", err)
	}
	resp.Body.Close()
}

func TestRecordLimit(t *testing.T) {
	f := NewFakeAPI(t, WithRecordLimit(3))
	for range 5 {
		post(t, f, "", "/v1/messages/count_tokens", `{}`)
	}
	rs := f.Requests()
	if len(rs) != 3 || rs[0].Seq != 3 || rs[2].Seq != 5 {
		t.Fatalf("kept %d requests from seq %d", len(rs), rs[0].Seq)
	}
}

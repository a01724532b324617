package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

// Issue 14: 60 cross-origin POSTs with long paths, all answered 403, grew
// ferry.db and the log by tens of MB: every refusal was recorded and
// logged with its whole path. Refusals are now counted, logged at most
// once a minute, and never recorded.
func TestGuardRefusalsNotRecorded(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	url, _, _ := serve(t, h.p)
	longPath := "/v1/messages/" + strings.Repeat("a", 7000)
	for i := 0; i < 60; i++ {
		req, _ := http.NewRequest("POST", url+longPath, strings.NewReader(`{"model":"m"}`))
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Content-Type", "text/plain")
		res, err := rawClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin POST: %d", res.StatusCode)
		}
	}
	// A CONNECT and a rebinding Host are refused the same way.
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n"+
		"GET /v1/models HTTP/1.1\r\nHost: evil.example\r\n\r\n")
	br := bufio.NewReader(conn)
	for _, want := range []int{http.StatusBadRequest, http.StatusMisdirectedRequest} {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != want {
			t.Fatalf("status %d, want %d", res.StatusCode, want)
		}
	}
	conn.Close()

	h.p.books.Wait()
	if n := len(h.rec.all()); n != 0 {
		t.Fatalf("%d refused requests were recorded", n)
	}
	got := h.p.Refusals()
	if got[RefusedOrigin] != 60 || got[RefusedConnect] != 1 || got[RefusedHost] != 1 {
		t.Errorf("refusal counts %v", got)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "requests refused"); n != 1 {
		t.Errorf("%d log lines for 62 refusals, want 1", n)
	}
	if strings.Contains(logs, strings.Repeat("a", 300)) {
		t.Error("a refused path was logged whole")
	}
}

// A request target over 8 KB gets Ferry's 414 in Anthropic's shape and is
// not recorded; one past the 64 KB header limit gets Go's 431.
func TestLongTargetRefused(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	url, _, _ := serve(t, h.p)
	res, body := doURL(t, "GET", url+"/v1/models?x="+strings.Repeat("b", 9000), keyHeader(clientKey))
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
		RequestID string `json:"request_id"`
	}
	if res.StatusCode != http.StatusRequestURITooLong || json.Unmarshal(body, &e) != nil || e.Type != "error" ||
		e.Error.Type != TypeInvalidRequest || e.RequestID == "" {
		t.Fatalf("9 KB target: %d %s", res.StatusCode, body)
	}
	res, _ = doURL(t, "GET", url+"/v1/models?x="+strings.Repeat("b", 100<<10), keyHeader(clientKey))
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("100 KB target: %d", res.StatusCode)
	}
	res, _ = doURL(t, "GET", url+"/v1/models?x="+strings.Repeat("b", 4000), keyHeader(clientKey))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("4 KB target: %d", res.StatusCode)
	}
	h.p.books.Wait()
	if n := len(h.rec.all()); n != 1 {
		t.Fatalf("%d records, want only the accepted request's", n)
	}
	if h.p.Refusals()[RefusedTarget] != 1 {
		t.Errorf("refusals %v", h.p.Refusals())
	}
}

func doURL(t *testing.T, method, u string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vv := range hdr {
		req.Header[k] = vv
	}
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// An <img src="http://127.0.0.1:7856/v1/models"> GET carries no Origin
// and passed the guards; its Sec-Fetch-Site gives it away.
func TestFetchMetadataCrossSiteRefused(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, func(o *Options) { o.AllowOrigins = []string{"http://localhost:3000"} })
	for _, site := range []string{"cross-site", "same-site"} {
		res, body := h.do(t, "GET", "/v1/models", nil, http.Header{"Sec-Fetch-Site": {site}, "X-Api-Key": {testToken}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "permission_error") {
			t.Errorf("Sec-Fetch-Site %s without Origin: %d %s", site, res.StatusCode, body)
		}
	}
	if len(fake.Requests()) != 0 {
		t.Fatal("a cross-site request reached the upstream")
	}
	res, _ := h.do(t, "GET", "/v1/models", nil, http.Header{"Sec-Fetch-Site": {"cross-site"},
		"Origin": {"http://localhost:3000"}, "X-Api-Key": {clientKey}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("cross-site from an allowed origin: %d", res.StatusCode)
	}
	for _, site := range []string{"same-origin", "none"} {
		if res, _ := h.do(t, "GET", "/v1/models", nil, http.Header{"Sec-Fetch-Site": {site}, "X-Api-Key": {clientKey}}); res.StatusCode != http.StatusOK {
			t.Errorf("Sec-Fetch-Site %s: %d", site, res.StatusCode)
		}
	}
}

// A panic in a handler is logged at warn level with the request id; the
// connection is closed rather than answered with a half response.
func TestPanicLoggedWithRequestID(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Stages = []Stage{{Phase: PhaseFilter, Name: "exploding", Run: func(ctx context.Context, out *Outgoing) (*Response, error) {
			panic("hook exploded")
		}}}
	})
	url, _, _ := serve(t, h.p)
	req, _ := http.NewRequest("POST", url+"/v1/messages", strings.NewReader(`{"model":"m"}`))
	req.Header.Set("X-Api-Key", clientKey)
	if res, err := rawClient().Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("a panicking handler answered %d", res.StatusCode)
	}
	logs := h.logs.String()
	i := strings.Index(logs, "handler panicked")
	if i < 0 {
		t.Fatalf("no warning for the panic:\n%s", logs)
	}
	line := logs[strings.LastIndex(logs[:i], "\n")+1:]
	line = line[:strings.Index(line, "\n")]
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "id=ferry_") || !strings.Contains(line, "hook exploded") {
		t.Errorf("panic line: %s", line)
	}
}

// Past the connection cap a client gets 529 with retry-after instead of
// hanging in the listen backlog.
func TestConnectionCapAnswers529(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := h.p.server()
	go srv.Serve(h.p.limitConns(ln, 2))
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// A request answered proves the server accepted this connection.
		io.WriteString(c, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: "+clientKey+"\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("connection %d: %v %v", i, res, err)
		}
		held = append(held, c)
	}
	res, body := doURL(t, "GET", "http://"+addr+"/v1/models", keyHeader(clientKey))
	if res.StatusCode != StatusOverloaded || res.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), "overloaded_error") {
		t.Fatalf("over the cap: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	held[0].Close()
	// The slot comes back once a connection closes.
	for i := 0; ; i++ {
		res, _ = doURL(t, "GET", "http://"+addr+"/v1/models", keyHeader(clientKey))
		if res.StatusCode == 200 {
			break
		}
		if i > 200 {
			t.Fatalf("slot never came back: %d", res.StatusCode)
		}
	}
	held[1].Close()
}

// A plain-http API base on another host is flagged on every answer.
func TestPlainHTTPAPIBaseWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "http://192.0.2.1:1", func(o *Options) { o.FirstByteTimeout = 1 })
	url, _, _ := serve(t, h.p)
	res, _ := doURL(t, "GET", url+"/_ferry/health", nil)
	if w := res.Header.Get("X-Ferry-Warning"); !strings.Contains(w, "plain http") {
		t.Errorf("x-ferry-warning %q", w)
	}
	for _, base := range []string{"https://api.anthropic.com", "http://127.0.0.1:8080", "http://localhost:1"} {
		u, _ := parseURL(base)
		if w := PlainHTTPWarning(u); w != "" {
			t.Errorf("%s: warning %q", base, w)
		}
	}
}

func TestTruncatePath(t *testing.T) {
	if got := TruncatePath("/v1/messages"); got != "/v1/messages" {
		t.Error(got)
	}
	long := "/" + strings.Repeat("é", 400)
	got := TruncatePath(long)
	if len(got) > 256+len(pathCutMarker) || !strings.HasSuffix(got, pathCutMarker) || !utf8Valid(got) {
		t.Errorf("truncated %d bytes: %q", len(got), got[len(got)-20:])
	}
}

func parseURL(s string) (*neturl.URL, error) { return neturl.Parse(s) }

func utf8Valid(s string) bool { return utf8.ValidString(s) }

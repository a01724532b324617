package proxy

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-gateway/ferry/storage"
)

// seen is what an upstream handler was sent.
type seen struct {
	mu     sync.Mutex
	method string
	uri    string
	header http.Header
	body   []byte
	proto  string
	n      int
}

func (s *seen) handler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.method, s.uri, s.header, s.body, s.proto = r.Method, r.RequestURI, r.Header.Clone(), b, r.Proto
		s.n++
		s.mu.Unlock()
		next(w, r)
	}
}

func (s *seen) get() seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return seen{method: s.method, uri: s.uri, header: s.header, body: s.body, proto: s.proto, n: s.n}
}

func TestForwardKeepsRequestAndResponse(t *testing.T) {
	t.Parallel()
	var s seen
	up := httptest.NewServer(s.handler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", "req_011")
		w.Header().Set("Anthropic-Ratelimit-Tokens-Remaining", "12345")
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Connection", "X-Up-Hop")
		w.Header().Set("X-Up-Hop", "drop me")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_1","type":"message"}`)
	}))
	defer up.Close()
	h := newHarness(t, up.URL+"/relay", nil)

	body := []byte(`{"model":"claude-sonnet-4-5","max_tokens":10, "messages":[{"role":"user","content":"héllo \u00e9"}]}`)
	hdr := http.Header{
		"X-Api-Key":           {clientKey},
		"Anthropic-Version":   {"2023-06-01"},
		"Anthropic-Beta":      {"a,b,c"},
		"User-Agent":          {"claude-cli/2.0.1 (external, cli)"},
		"X-Stainless-Lang":    {"js"},
		"X-App":               {"cli"},
		"Connection":          {"keep-alive, X-Client-Hop"},
		"X-Client-Hop":        {"drop me"},
		"Keep-Alive":          {"timeout=5"},
		"Proxy-Authorization": {"Basic c2VjcmV0"},
		"Te":                  {"trailers"},
	}
	res, got := h.do(t, "POST", "/v1/messages?beta=true", body, hdr)
	if res.StatusCode != 200 || string(got) != `{"id":"msg_1","type":"message"}` {
		t.Fatalf("status %d body %q", res.StatusCode, got)
	}
	for k, want := range map[string]string{"Request-Id": "req_011", "Anthropic-Ratelimit-Tokens-Remaining": "12345", "Retry-After": "7"} {
		if res.Header.Get(k) != want {
			t.Errorf("response header %s = %q, want %q", k, res.Header.Get(k), want)
		}
	}
	if res.Header.Get("X-Up-Hop") != "" {
		t.Error("hop-by-hop header named in the upstream's Connection reached the client")
	}
	u := s.get()
	if u.method != "POST" || u.uri != "/relay/v1/messages?beta=true" {
		t.Errorf("upstream saw %s %s", u.method, u.uri)
	}
	if !bytes.Equal(u.body, body) {
		t.Errorf("body changed: %q", u.body)
	}
	for _, k := range []string{"Anthropic-Version", "Anthropic-Beta", "User-Agent", "X-Stainless-Lang", "X-App", "X-Api-Key"} {
		if u.header.Get(k) != hdr.Get(k) {
			t.Errorf("upstream header %s = %q, want %q", k, u.header.Get(k), hdr.Get(k))
		}
	}
	for _, k := range []string{"X-Client-Hop", "Keep-Alive", "Proxy-Authorization", "Te", "X-Ferry-Token"} {
		if v := u.header.Get(k); v != "" {
			t.Errorf("hop-by-hop header %s reached upstream: %q", k, v)
		}
	}
	rec := h.rec.next(t)
	if rec.Model != "claude-sonnet-4-5" || rec.Stream || rec.Status != 200 || rec.RequestID != "req_011" ||
		rec.Path != "/v1/messages" || rec.Method != "POST" || rec.Route != "Direct" || rec.ErrorClass != "" ||
		rec.BytesIn != int64(len(body)) || rec.BytesOut != int64(len(got)) || rec.Client != "claude-cli/2.0.1 (external, cli)" {
		t.Errorf("record %+v", rec)
	}
	if rec.FirstByte <= 0 || rec.Total < rec.FirstByte {
		t.Errorf("latencies first byte %v total %v", rec.FirstByte, rec.Total)
	}
	o := h.lastObserver()
	if o.status != 200 || o.body.String() != string(got) || o.done != 1 || !bytes.Equal(o.reqBody, body) {
		t.Errorf("observer saw status %d body %q done %d reqBody %q", o.status, o.body.String(), o.done, o.reqBody)
	}
}

func TestNoUserAgentAdded(t *testing.T) {
	t.Parallel()
	var s seen
	up := httptest.NewServer(s.handler(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	h := newHarness(t, up.URL, nil)
	req, _ := http.NewRequest("GET", h.url+"/v1/models", nil)
	req.Header.Set("X-Api-Key", clientKey)
	req.Header["User-Agent"] = []string{""}
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ua, ok := s.get().header["User-Agent"]; ok {
		t.Errorf("upstream got a User-Agent the client did not send: %q", ua)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	var s seen
	up := httptest.NewServer(s.handler(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	local := newHarness(t, up.URL, nil)
	noKey := newHarness(t, up.URL, func(o *Options) { o.Keys = staticKeys{token: testToken} })
	noKeys := newHarness(t, up.URL, func(o *Options) { o.Keys = nil })
	remote := newHarness(t, up.URL, func(o *Options) { o.AllowRemote = true; o.ListenAddr = "127.0.0.1:0" })

	fp := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:4]) }
	tests := []struct {
		name       string
		h          *harness
		path       string
		hdr        http.Header
		status     int
		wantKey    string // x-api-key upstream
		wantAuth   string // Authorization upstream
		wantFP     string
		wantErrMsg string
	}{
		{name: "own x-api-key passes", h: local, hdr: keyHeader(clientKey), status: 200, wantKey: clientKey, wantFP: fp(clientKey)},
		{name: "own bearer passes", h: local, hdr: http.Header{"Authorization": {"Bearer " + clientKey}}, status: 200, wantAuth: "Bearer " + clientKey, wantFP: fp(clientKey)},
		{name: "token in x-api-key swapped", h: local, hdr: keyHeader(testToken), status: 200, wantKey: testKey, wantFP: fp(testKey)},
		{name: "token as bearer swapped", h: local, hdr: http.Header{"Authorization": {"Bearer " + testToken}}, status: 200, wantKey: testKey, wantFP: fp(testKey)},
		{name: "token without held key", h: noKey, hdr: keyHeader(testToken), status: 401, wantErrMsg: "ferry key set"},
		{name: "no key at all", h: local, hdr: nil, status: 401, wantErrMsg: "no API key"},
		{name: "no keys configured, own key", h: noKeys, hdr: keyHeader(clientKey), status: 200, wantKey: clientKey, wantFP: fp(clientKey)},
		{name: "wrong token is a key of its own", h: local, hdr: keyHeader(testToken + "x"), status: 200, wantKey: testToken + "x", wantFP: fp(testToken + "x")},
		{name: "claude code hello without key", h: local, path: "/api/hello", hdr: nil, status: 200},
		{name: "remote without token", h: remote, hdr: keyHeader(clientKey), status: 401, wantErrMsg: "local token"},
		{name: "remote own key with ferry token", h: remote, hdr: http.Header{"X-Api-Key": {clientKey}, "X-Ferry-Token": {testToken}}, status: 200, wantKey: clientKey, wantFP: fp(clientKey)},
		{name: "remote token swapped", h: remote, hdr: keyHeader(testToken), status: 200, wantKey: testKey, wantFP: fp(testKey)},
	}
	var mu sync.Mutex // one upstream records the last request: run the table in order
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			path := tc.path
			if path == "" {
				path = "/v1/messages"
			}
			before := s.get().n
			res, body := tc.h.do(t, "POST", path, []byte(`{"model":"m"}`), tc.hdr)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			rec := tc.h.rec.next(t)
			if tc.status != 200 {
				if s.get().n != before {
					t.Error("a refused request reached the upstream")
				}
				if res.Header.Get("X-Ferry-Error") != "1" || !strings.Contains(string(body), `"authentication_error"`) || !strings.Contains(string(body), tc.wantErrMsg) {
					t.Errorf("error response %q headers %v", body, res.Header)
				}
				if rec.ErrorClass != storage.ClassClient4xx || rec.ErrorType != "authentication_error" || rec.Status != 401 {
					t.Errorf("record %+v", rec)
				}
				return
			}
			u := s.get()
			if got := u.header.Get("X-Api-Key"); got != tc.wantKey {
				t.Errorf("upstream x-api-key %q, want %q", got, tc.wantKey)
			}
			if got := u.header.Get("Authorization"); got != tc.wantAuth {
				t.Errorf("upstream Authorization %q, want %q", got, tc.wantAuth)
			}
			if u.header.Get("X-Ferry-Token") != "" {
				t.Error("x-ferry-token reached the upstream")
			}
			if rec.KeyFingerprint != tc.wantFP {
				t.Errorf("fingerprint %q, want %q", rec.KeyFingerprint, tc.wantFP)
			}
		})
	}
	for _, h := range []*harness{local, noKey, noKeys, remote} {
		h.p.books.Wait() // log lines and records follow each handler's return
		for _, secret := range []string{testToken, testKey, clientKey} {
			if strings.Contains(h.logs.String(), secret) {
				t.Errorf("a key reached the log:\n%s", h.logs.String())
			}
		}
		for _, rec := range h.rec.all() {
			if strings.Contains(rec.KeyFingerprint+rec.ErrorType+rec.Client, "sk-") {
				t.Errorf("a key reached a record: %+v", rec)
			}
		}
	}
}

func TestNewRefusesRemoteWithoutToken(t *testing.T) {
	t.Parallel()
	_, err := New(Options{AllowRemote: true})
	if err != ErrNoLocalToken {
		t.Fatalf("err = %v", err)
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want bool
	}{
		{nil, false},
		{[]string{"gzip, br, zstd"}, true},
		{[]string{"br, zstd"}, false},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip;q=0.5, identity"}, true},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"br", "GZIP ; Q=1.0"}, true},
		{[]string{"*, gzip;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"x-gzip"}, true},
	}
	for _, tc := range tests {
		if got := acceptsGzip(tc.in); got != tc.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func gzipped(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.Bytes()
}

func TestEncodingNegotiation(t *testing.T) {
	t.Parallel()
	const plain = `{"id":"msg_1","type":"message","usage":{"input_tokens":3,"output_tokens":4}}`
	zipped := gzipped(t, plain)
	var s seen
	up := httptest.NewServer(s.handler(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(zipped)
			return
		}
		io.WriteString(w, plain)
	}))
	defer up.Close()
	h := newHarness(t, up.URL, nil)

	tests := []struct {
		name     string
		accept   []string
		body     string
		upstream string
		wantEnc  string
		want     []byte
	}{
		{"claude code asks gzip br zstd", []string{"gzip, deflate, br, zstd"}, `{"model":"m"}`, "gzip", "gzip", zipped},
		{"client takes only br", []string{"br"}, `{"model":"m"}`, "identity", "", []byte(plain)},
		{"client sends none", nil, `{"model":"m"}`, "identity", "", []byte(plain)},
		{"streaming request gets identity", []string{"gzip, br"}, `{"model":"m","stream":true}`, "identity", "", []byte(plain)},
	}
	var mu sync.Mutex
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			hdr := keyHeader(clientKey)
			if tc.accept != nil {
				hdr["Accept-Encoding"] = tc.accept
			}
			res, got := h.do(t, "POST", "/v1/messages", []byte(tc.body), hdr)
			if ae := s.get().header.Values("Accept-Encoding"); len(ae) != 1 || ae[0] != tc.upstream {
				t.Errorf("upstream offered %q, want %q", ae, tc.upstream)
			}
			if res.Header.Get("Content-Encoding") != tc.wantEnc || !bytes.Equal(got, tc.want) {
				t.Errorf("client got encoding %q body %q", res.Header.Get("Content-Encoding"), got)
			}
			h.rec.next(t)
			if o := h.lastObserver(); !bytes.Equal(o.body.Bytes(), tc.want) {
				t.Errorf("observer saw %q, want the bytes as sent", o.body.Bytes())
			}
		})
	}
}

func TestUpstreamErrorStatusPassesThrough(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		typ    string
		gz     bool
		class  storage.ErrorClass
	}{
		{429, "rate_limit_error", false, storage.ClassUpstream4xx},
		{529, "overloaded_error", true, storage.ClassUpstream5xx},
		{400, "invalid_request_error", false, storage.ClassUpstream4xx},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			body := `{"type":"error","error":{"type":"` + tc.typ + `","message":"x"},"request_id":"req_9"}`
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3")
				w.Header().Set("Content-Type", "application/json")
				if tc.gz {
					w.Header().Set("Content-Encoding", "gzip")
					w.WriteHeader(tc.status)
					w.Write(gzipped(t, body))
					return
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, body)
			}))
			defer up.Close()
			h := newHarness(t, up.URL, func(o *Options) { o.Observe = nil })
			hdr := keyHeader(clientKey)
			hdr.Set("Accept-Encoding", "gzip")
			res, _ := h.do(t, "POST", "/v1/messages", []byte(`{}`), hdr)
			if res.StatusCode != tc.status || res.Header.Get("Retry-After") != "3" || res.Header.Get("X-Ferry-Error") != "" {
				t.Errorf("status %d headers %v", res.StatusCode, res.Header)
			}
			rec := h.rec.next(t)
			if rec.Status != tc.status || rec.ErrorType != tc.typ || rec.ErrorClass != tc.class {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

package proxy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

func TestHostAndOriginGuards(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "{}")
	}))
	defer up.Close()
	local := newHarness(t, up.URL, func(o *Options) { o.AllowOrigins = []string{"https://App.example.com:443/"} })
	remote := newHarness(t, up.URL, func(o *Options) { o.AllowRemote = true; o.ListenAddr = "192.168.7.5:7856" })
	remoteAny := newHarness(t, up.URL, func(o *Options) { o.AllowRemote = true; o.ListenAddr = "0.0.0.0:7856" })

	tests := []struct {
		name    string
		h       *harness
		method  string
		path    string
		host    string
		hdr     http.Header
		status  int
		errType string
		cors    string // expected Access-Control-Allow-Origin
	}{
		{name: "localhost with port", h: local, host: "localhost:7856", status: 200},
		{name: "LOCALHOST upper case", h: local, host: "LOCALHOST", status: 200},
		{name: "127.0.0.1", h: local, host: "127.0.0.1:7856", status: 200},
		{name: "127.8.9.10 no port", h: local, host: "127.8.9.10", status: 200},
		{name: "[::1]", h: local, host: "[::1]:7856", status: 200},
		{name: "rebinding name", h: local, host: "evil.example.com:7856", status: 421, errType: "permission_error"},
		{name: "sub.localhost is not trusted", h: local, host: "x.localhost", status: 421, errType: "permission_error"},
		{name: "lan address without remote", h: local, host: "192.168.7.5:7856", status: 421, errType: "permission_error"},
		{name: "empty host", h: local, host: " ", status: 421, errType: "permission_error"},
		{name: "remote: listen address", h: remote, host: "192.168.7.5:7856", hdr: keyHeader(testToken), status: 200},
		{name: "remote: loopback", h: remote, host: "127.0.0.1", hdr: keyHeader(testToken), status: 200},
		{name: "remote: other name", h: remote, host: "evil.example.com", hdr: keyHeader(testToken), status: 421, errType: "permission_error"},
		{name: "remote on 0.0.0.0: any host, token required", h: remoteAny, host: "my-box.lan:7856", hdr: keyHeader(testToken), status: 200},
		{name: "remote on 0.0.0.0: no token", h: remoteAny, host: "my-box.lan:7856", hdr: keyHeader(clientKey), status: 401, errType: "authentication_error"},
		{name: "origin not allowed", h: local, host: "127.0.0.1", hdr: http.Header{"Origin": {"https://evil.example.com"}}, status: 403, errType: "permission_error"},
		{name: "origin null", h: local, host: "127.0.0.1", hdr: http.Header{"Origin": {"null"}}, status: 403, errType: "permission_error"},
		{name: "origin allowed gets CORS", h: local, host: "127.0.0.1", hdr: http.Header{"Origin": {"https://app.example.com"}}, status: 200, cors: "https://app.example.com"},
		{name: "allowed preflight", h: local, method: "OPTIONS", host: "127.0.0.1",
			hdr:    http.Header{"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"x-api-key, anthropic-version"}},
			status: 204, cors: "https://app.example.com"},
		{name: "refused preflight", h: local, method: "OPTIONS", host: "127.0.0.1",
			hdr: http.Header{"Origin": {"https://evil.example.com"}, "Access-Control-Request-Method": {"POST"}}, status: 403, errType: "permission_error"},
		{name: "admin: rebinding name", h: local, method: "GET", path: "/_ferry/health", host: "evil.example.com", status: 421, errType: "permission_error"},
		{name: "admin: origin not allowed", h: local, method: "GET", path: "/_ferry/health", host: "localhost", hdr: http.Header{"Origin": {"http://localhost:3000"}}, status: 403, errType: "permission_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, path := tc.method, tc.path
			if method == "" {
				method = "POST"
			}
			if path == "" {
				path = "/v1/messages"
			}
			hdr := http.Header{"X-Api-Key": {clientKey}}
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			before := hits.Load()
			req, _ := http.NewRequest(method, tc.h.url+path, strings.NewReader(`{"model":"m"}`))
			req.Header = hdr
			req.Host = tc.host
			res, err := rawClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != tc.cors {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.cors)
			}
			if tc.errType != "" {
				if !strings.Contains(string(body), `"type":"`+tc.errType+`"`) || res.Header.Get("X-Ferry-Error") != "1" {
					t.Errorf("body %s", body)
				}
				if hits.Load() != before {
					t.Error("a refused request reached the upstream")
				}
			}
			if tc.status == 204 && res.Header.Get("Access-Control-Allow-Headers") != "x-api-key, anthropic-version" {
				t.Errorf("preflight headers %v", res.Header)
			}
		})
	}
}

// countingReader counts what the client's transport read of its body.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// zeros is an endless reader of a byte.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestOversizeBodyRefusedUnread(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Got", itoa(n))
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, up.URL, func(o *Options) { o.MaxBody = 1 << 20; o.MaxBodyLarge = 4 << 20 })
	const total = 64 << 20
	tests := []struct {
		name    string
		path    string
		chunked bool
	}{
		{"declared length", "/v1/messages", false},
		{"chunked", "/v1/messages", true},
		{"files declared", "/v1/files", false},
		{"files chunked", "/v1/files", true},
		{"batches chunked", "/v1/messages/batches", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cr := &countingReader{r: io.LimitReader(zeros{}, total)}
			req, _ := http.NewRequest("POST", h.url+tc.path, cr)
			req.Header.Set("X-Api-Key", clientKey)
			if tc.chunked {
				req.ContentLength = -1
			} else {
				req.ContentLength = total
			}
			res, err := rawClient().Do(req)
			if err != nil {
				// The server may close the connection while the client is
				// still writing; what matters is that it did not read all.
				t.Logf("client error (connection closed early): %v", err)
			} else {
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 413 || !strings.Contains(string(body), `"request_too_large"`) {
					t.Fatalf("status %d body %s", res.StatusCode, body)
				}
			}
			if read := cr.n.Load(); read >= total {
				t.Errorf("client body read to the end (%d bytes)", read)
			}
		})
	}
	t.Cleanup(func() {
		h.p.books.Wait()
		for _, rec := range h.rec.all() {
			if rec.Status != 413 || rec.ErrorType != "request_too_large" || rec.ErrorClass != storage.ClassClient4xx {
				t.Errorf("record %+v", rec)
			}
		}
	})
}

func TestLargeEndpointStreamsBody(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Len", itoa(int64(len(b))))
		w.Header().Set("X-CL", itoa(r.ContentLength))
		w.Write(b[:16])
	}))
	defer up.Close()
	var hookBody []byte
	hookRan := false
	h := newHarness(t, up.URL, func(o *Options) {
		o.MaxBody = 1 << 20
		o.Stages = []Stage{{Phase: PhaseFilter, Name: "test", Run: func(ctx contextT, out *Outgoing) (*Response, error) {
			hookRan, hookBody = true, out.Body
			return nil, nil
		}}}
	})
	body := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16) // 3 MB, over MaxBody
	for _, chunked := range []bool{false, true} {
		req, _ := http.NewRequest("POST", h.url+"/v1/files", bytes.NewReader(body))
		req.Header.Set("X-Api-Key", clientKey)
		if chunked {
			req.ContentLength = -1
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		res, err := rawClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		wantCL := itoa(int64(len(body)))
		if chunked {
			wantCL = "-1"
		}
		if res.StatusCode != 200 || res.Header.Get("X-Len") != itoa(int64(len(body))) || res.Header.Get("X-CL") != wantCL || string(got) != "0123456789abcdef" {
			t.Fatalf("chunked=%v: status %d headers %v", chunked, res.StatusCode, res.Header)
		}
		rec := h.rec.next(t)
		if rec.BytesIn != int64(len(body)) {
			t.Errorf("BytesIn %d", rec.BytesIn)
		}
	}
	if !hookRan || hookBody != nil {
		t.Errorf("hook ran %v with body %d bytes; want nil for a streamed body", hookRan, len(hookBody))
	}
}

func TestHostGuardUnit(t *testing.T) {
	t.Parallel()
	g := newHostGuard("[::]:7856", true)
	if !g.allowed("anything:1") || g.allowed("") {
		t.Error("unspecified listen address with remote access")
	}
	g = newHostGuard("10.0.0.1:7856", false)
	if g.allowed("10.0.0.1:7856") {
		t.Error("listen address accepted without remote access")
	}
	if _, err := net.ResolveTCPAddr("tcp", "[::1]:1"); err == nil && !g.allowed("[::1]") {
		t.Error("[::1] refused")
	}
}

func TestStreamedUploadTimeouts(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, func(o *Options) { o.IdleTimeout = 500 * time.Millisecond; o.FirstByteTimeout = 700 * time.Millisecond })

	t.Run("first byte after the upload", func(t *testing.T) {
		body := bytes.Repeat([]byte("x"), 200<<10)
		hdr := keyHeader(clientKey)
		hdr.Set(testsupport.ScenarioHeader, "echo;delay=3s")
		res, got := h.do(t, "POST", "/v1/files", body, hdr)
		if res.StatusCode != 504 || !strings.Contains(string(got), "--first-byte-timeout") {
			t.Errorf("%d %s", res.StatusCode, got)
		}
		h.rec.next(t)
	})
	t.Run("client stalls mid-body", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte(`{"model":"m","messages":[`))
			time.Sleep(3 * time.Second)
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", h.url+"/v1/messages", pr)
		req.Header.Set("X-Api-Key", clientKey)
		res, err := rawClient().Do(req)
		if err == nil {
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 408 {
				t.Errorf("a stalled body got %d %s", res.StatusCode, got)
			}
		}
		if rec := h.rec.next(t); rec.Status != 408 || rec.ErrorClass != storage.ClassClient4xx {
			t.Errorf("record %+v", rec)
		}
	})
	t.Run("client stalls mid-upload", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			pw.Write(bytes.Repeat([]byte("y"), 64<<10))
			time.Sleep(3 * time.Second) // longer than the idle timeout
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", h.url+"/v1/files", pr)
		req.Header.Set("X-Api-Key", clientKey)
		req.Header.Set(testsupport.ScenarioHeader, "echo")
		res, err := rawClient().Do(req)
		if err == nil {
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 408 || !strings.Contains(string(got), "--idle-timeout") {
				t.Errorf("a stalled upload got %d %s", res.StatusCode, got)
			}
		}
		rec := h.rec.next(t)
		if rec.ErrorClass != storage.ClassClient4xx || rec.Status != 408 || rec.ErrorType != "timeout_error" {
			t.Errorf("record %+v", rec)
		}
	})
}

package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/storage"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorFor(t *testing.T) {
	t.Parallel()
	where := target{route: "office", host: "api.anthropic.com", firstByte: "10m0s", idle: "5m0s"}
	bg := context.Background()
	cancelled := func(cause error) context.Context {
		ctx, cancel := context.WithCancelCause(bg)
		cancel(cause)
		return ctx
	}
	dial := func(stage route.Stage, proxyURL string) error {
		return fmt.Errorf("round trip: %w", &route.DialError{Route: "office", Proxy: proxyURL, Target: "api.anthropic.com:443", Stage: stage, Err: errors.New("boom")})
	}
	const masked = "socks5://alice:***@127.0.0.1:1080"
	tests := []struct {
		name      string
		clientCtx context.Context
		ctx       context.Context
		err       error
		status    int
		typ       string
		class     storage.ErrorClass
		contains  []string
	}{
		{"client gone", cancelled(context.Canceled), cancelled(context.Canceled), context.Canceled, 499, typeClientClosed, storage.ClassClient4xx, nil},
		{"first byte", bg, cancelled(ErrFirstByteTimeout), context.Canceled, 504, TypeTimeout, storage.ClassNetwork, []string{"10m0s", "--first-byte-timeout", `route "office"`}},
		{"idle", bg, cancelled(ErrIdleTimeout), context.Canceled, 504, TypeTimeout, storage.ClassNetwork, []string{"5m0s", "--idle-timeout"}},
		{"too large", bg, bg, fmt.Errorf("copy: %w", &http.MaxBytesError{Limit: 10}), 413, TypeRequestTooLarge, storage.ClassClient4xx, []string{"10 bytes"}},
		{"proxy refused", bg, bg, dial(route.StageProxyConnect, masked), 502, TypeAPI, storage.ClassNetwork, []string{"upstream proxy " + masked + ` (route "office") refused the connection`}},
		{"proxy auth", bg, bg, dial(route.StageProxyAuth, masked), 502, TypeAPI, storage.ClassNetwork, []string{masked, "rejected the credentials"}},
		{"proxy handshake", bg, bg, dial(route.StageProxyHandshake, masked), 502, TypeAPI, storage.ClassNetwork, []string{"handshake failed: boom"}},
		{"dns", bg, bg, dial(route.StageDNS, ""), 502, TypeAPI, storage.ClassNetwork, []string{`route "office" (direct)`, "DNS lookup failed"}},
		{"target via proxy", bg, bg, dial(route.StageTargetConnect, masked), 502, TypeAPI, storage.ClassNetwork, []string{"could not reach api.anthropic.com:443"}},
		{"target direct", bg, bg, dial(route.StageTargetConnect, ""), 502, TypeAPI, storage.ClassNetwork, []string{"cannot connect to api.anthropic.com:443"}},
		{"connect timeout", bg, bg, dial(route.StageConnectTimeout, masked), 504, TypeTimeout, storage.ClassNetwork, []string{"--connect-timeout"}},
		{"net timeout", bg, bg, &net.OpError{Op: "read", Err: timeoutErr{}}, 504, TypeTimeout, storage.ClassNetwork, []string{"timed out"}},
		{"dns error", bg, bg, &net.DNSError{Name: "api.example", Err: "no such host"}, 502, TypeAPI, storage.ClassNetwork, []string{"cannot resolve api.example"}},
		{"other, redacted", bg, bg, errors.New(`dial socks5://bob:hunter2@10.0.0.1:1080 with key sk-ant-api03-abcdefghijkl`), 502, TypeAPI, storage.ClassNetwork, []string{"bob:***@", "sk-***"}},
		{"own error", bg, bg, &Error{Status: 400, Type: TypeInvalidRequest, Message: "blocked"}, 400, TypeInvalidRequest, storage.ClassClient4xx, []string{"blocked"}},
	}
	for _, tc := range tests {
		e := errorFor(tc.clientCtx, tc.ctx, tc.err, where)
		if e.Status != tc.status || e.Type != tc.typ || e.class() != tc.class {
			t.Errorf("%s: %d %s %s", tc.name, e.Status, e.Type, e.class())
		}
		for _, s := range tc.contains {
			if !strings.Contains(e.Message, s) {
				t.Errorf("%s: message %q lacks %q", tc.name, e.Message, s)
			}
		}
		if strings.Contains(e.Message, "hunter2") || strings.Contains(e.Message, "abcdefghijkl") {
			t.Errorf("%s: secret in %q", tc.name, e.Message)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"socks5://alice:pw@127.0.0.1:1080", "socks5://alice:***@127.0.0.1:1080"},
		{`proxy "http://u:p%40ss@h:8080/x" refused`, `proxy "http://u:***@h:8080/x" refused`},
		{"no secrets here: http://example.com/a@b", "no secrets here: http://example.com/a@b"},
		{"key sk-ant-api03-AAAABBBBCCCC end", "key sk-***" + fingerprint("sk-ant-api03-AAAABBBBCCCC") + " end"},
		{"token sk-ferry-0123456789abcdef", "token sk-***" + fingerprint("sk-ferry-0123456789abcdef")},
	}
	for _, tc := range tests {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if len(fingerprint("k")) != 8 || fingerprint("") != "" {
		t.Error("fingerprint shape")
	}
}

func TestConnectMethodGetsAHint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "http://127.0.0.1:1", nil)
	req := httptest.NewRequest("CONNECT", "http://api.anthropic.com:443", nil)
	req.Host = "api.anthropic.com:443"
	w := httptest.NewRecorder()
	h.p.ServeHTTP(w, req)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "ANTHROPIC_BASE_URL") {
		t.Errorf("%d %s", w.Code, w.Body.String())
	}
}

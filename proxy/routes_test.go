package proxy

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// routeCase is one way out, started on demand.
type routeCase struct {
	name  string
	start func(t *testing.T) string // returns the route URL
}

func allRoutes() []routeCase {
	return []routeCase{
		{"direct", func(t *testing.T) string { return "direct" }},
		{"microsocks", func(t *testing.T) string { return testsupport.StartMicrosocks(t, "alice", "s3cret").URL(true) }},
		{"dante", func(t *testing.T) string { return testsupport.StartDante(t, "ferrytest", "s3cret-Pw1").URL(true) }},
		{"tinyproxy", func(t *testing.T) string { return testsupport.StartTinyproxy(t, "bob", "pa55word").URL(true) }},
	}
}

func chooser(t testing.TB, name, rawURL string, pool *x509.CertPool) route.Chooser {
	t.Helper()
	r, err := route.Parse(name, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	up, err := route.NewUpstream(r, route.DialOptions{RootCAs: pool, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Transport.CloseIdleConnections)
	return route.NewFixed(up)
}

// byteIdenticalScenarios have one exact expected body. Slow ones are scaled
// down; the cut ones are covered by the repair tests.
var byteIdenticalScenarios = []string{
	testsupport.ScenarioMessage,
	testsupport.ScenarioStream,
	testsupport.ScenarioToolUse,
	testsupport.ScenarioThinking,
	testsupport.ScenarioUTF8Split,
	testsupport.ScenarioUnknownEvent,
	testsupport.ScenarioStreamError,
	"slow;gap=100ms;total=600ms",
	"long_gap;gap=400ms",
	"large;frames=2000",
	testsupport.ScenarioOpenAI,
	testsupport.ScenarioOpenAIStream,
}

// TestByteIdenticalThroughRoutes sends every scenario through every kind of
// route to the HTTPS (HTTP/2) fake, and checks the client got exactly the
// fake's bytes, with HTTP/2 used upstream.
func TestByteIdenticalThroughRoutes(t *testing.T) {
	t.Parallel()
	for _, rc := range allRoutes() {
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			fake := testsupport.NewFakeAPITLS(t)
			h := newHarness(t, fake.URL, func(o *Options) { o.Routes = chooser(t, rc.name, rc.start(t), fake.CertPool) })
			for _, sc := range byteIdenticalScenarios {
				stream := strings.Contains(sc, "stream") || sc != testsupport.ScenarioMessage && sc != testsupport.ScenarioOpenAI
				body := `{"model":"claude-sonnet-4-5","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `}`
				path := "/v1/messages?beta=true"
				if strings.HasPrefix(sc, "openai") {
					path = "/v1/chat/completions"
				}
				hdr := keyHeader(testToken)
				hdr.Set(testsupport.ScenarioHeader, sc)
				hdr.Set("Accept-Encoding", "gzip, br, zstd")
				res, got := h.do(t, "POST", path, []byte(body), hdr)
				want := fake.ExpectedBody(sc)
				if res.StatusCode != 200 || !bytes.Equal(got, want) {
					t.Errorf("%s: status %d, %d bytes, want %d identical bytes", sc, res.StatusCode, len(got), len(want))
					continue
				}
				last := fake.Last()
				if last.Proto != "HTTP/2.0" {
					t.Errorf("%s: upstream spoke %s, want HTTP/2.0", sc, last.Proto)
				}
				if last.URI != path || last.Header.Get("X-Api-Key") != testKey || string(last.Body) != body {
					t.Errorf("%s: upstream saw %s key %q body %q", sc, last.URI, last.Header.Get("X-Api-Key"), last.Body)
				}
				if res.Header.Get("Request-Id") != last.RequestID {
					t.Errorf("%s: request-id %q, want %q", sc, res.Header.Get("Request-Id"), last.RequestID)
				}
				rec := h.rec.next(t)
				if rec.Route != rc.name || rec.RequestID != last.RequestID || rec.Status != 200 {
					t.Errorf("%s: record %+v", sc, rec)
				}
			}
		})
	}
}

// TestGzipPassesThroughRoutes: a gzip-accepting client of a non-streaming
// call gets the fake's gzip bytes unchanged, over plain HTTP/1.1 too.
func TestGzipPassesThroughRoutes(t *testing.T) {
	t.Parallel()
	for _, rc := range allRoutes()[:2] {
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			fake := testsupport.NewFakeAPI(t, testsupport.WithGzip(testsupport.GzipAccepted))
			h := newHarness(t, fake.URL, func(o *Options) { o.Routes = chooser(t, rc.name, rc.start(t), nil) })
			for _, accept := range []string{"gzip, br, zstd", ""} {
				hdr := keyHeader(clientKey)
				hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioMessage)
				if accept != "" {
					hdr.Set("Accept-Encoding", accept)
				}
				res, got := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m"}`), hdr)
				want, enc := fake.ExpectedBody(testsupport.ScenarioMessage), ""
				if accept != "" {
					want, enc = fake.ExpectedGzipBody(testsupport.ScenarioMessage), "gzip"
				}
				if res.Header.Get("Content-Encoding") != enc || !bytes.Equal(got, want) {
					t.Errorf("accept %q: encoding %q, %d bytes, want %d identical", accept, res.Header.Get("Content-Encoding"), len(got), len(want))
				}
				if fake.Last().Proto != "HTTP/1.1" {
					t.Errorf("proto %s", fake.Last().Proto)
				}
			}
		})
	}
}

// TestUpstreamThatGzipsStreams: an upstream that gzips an event stream
// although offered identity still reaches the client byte for byte.
func TestUpstreamThatGzipsStreams(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t, testsupport.WithGzip(testsupport.GzipAlways))
	h := newHarness(t, fake.URL, nil)
	hdr := keyHeader(clientKey)
	hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioUTF8Split)
	hdr.Set("Accept-Encoding", "gzip")
	res, got := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m","stream":true}`), hdr)
	if res.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(got, fake.ExpectedGzipBody(testsupport.ScenarioUTF8Split)) {
		t.Errorf("gzip stream changed")
	}
	if ae := fake.Last().Header.Get("Accept-Encoding"); ae != "identity" {
		t.Errorf("streaming request offered %q upstream", ae)
	}
}

func TestRouteFailures(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	tlsFake := testsupport.NewFakeAPITLS(t)
	socks := testsupport.StartMicrosocks(t, "alice", "s3cret")
	tiny := testsupport.StartTinyproxy(t, "bob", "pa55word")
	down := testsupport.StartMicrosocks(t, "", "")
	down.Stop()
	downURL := down.URL(false)
	deadPort := "http://127.0.0.1:" + itoa(int64(testsupport.FreePort(t)))

	tests := []struct {
		name     string
		base     string
		route    string
		pool     *x509.CertPool
		status   int
		errType  string
		contains []string
		absent   []string
	}{
		{name: "socks5 wrong password", base: fake.URL, route: socks.URLWith("alice", "wrong-pw"), status: 502, errType: "api_error",
			contains: []string{"rejected the credentials", "socks5://alice:***@" + socks.Addr}, absent: []string{"wrong-pw"}},
		{name: "http proxy wrong password", base: fake.URL, route: tiny.URLWith("bob", "wrong-pw"), status: 502, errType: "api_error",
			contains: []string{"rejected the credentials", "http://bob:***@" + tiny.Addr}, absent: []string{"wrong-pw"}},
		{name: "proxy down", base: fake.URL, route: downURL, status: 502, errType: "api_error",
			contains: []string{"refused the connection", down.Addr}},
		{name: "direct target down", base: deadPort, route: "direct", status: 502, errType: "api_error",
			contains: []string{"cannot connect"}},
		{name: "proxy cannot reach target", base: deadPort, route: socks.URL(true), status: 502, errType: "api_error",
			contains: []string{"could not reach"}},
		{name: "TLS without the CA, direct", base: tlsFake.URL, route: "direct", status: 502, errType: "api_error",
			contains: []string{"--ca-file", "unknown authority"}},
		{name: "TLS without the CA, CONNECT", base: tlsFake.URL, route: tiny.URL(true), status: 502, errType: "api_error",
			contains: []string{"--ca-file"}},
		{name: "CONNECT with the CA", base: tlsFake.URL, route: tiny.URL(true), pool: tlsFake.CertPool, status: 200},
		{name: "SOCKS5 with the CA", base: tlsFake.URL, route: socks.URL(true), pool: tlsFake.CertPool, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.base, func(o *Options) { o.Routes = chooser(t, "office", tc.route, tc.pool) })
			hdr := keyHeader(clientKey)
			hdr.Set(testsupport.ScenarioHeader, testsupport.ScenarioMessage)
			res, body := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m"}`), hdr)
			rec := h.rec.next(t)
			t.Logf("%d %s", res.StatusCode, body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				if rec.ErrorClass != "" {
					t.Errorf("record %+v", rec)
				}
				return
			}
			if res.Header.Get("X-Ferry-Error") != "1" || !strings.Contains(string(body), `"type":"`+tc.errType+`"`) || !strings.Contains(string(body), `route \"office\"`) {
				t.Errorf("body %s", body)
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(body), s) {
					t.Errorf("message lacks %q: %s", s, body)
				}
			}
			h.p.books.Wait() // the log line follows the record
			for _, s := range tc.absent {
				if strings.Contains(string(body), s) || strings.Contains(h.logs.String(), s) {
					t.Errorf("%q leaked: %s", s, body)
				}
			}
			if rec.Status != tc.status || rec.ErrorType != tc.errType || rec.ErrorClass != storage.ClassNetwork || rec.Route != "office" {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

// TestFakeScenariosThroughFerry: cut streams are repaired, API errors pass
// through, the first-byte timeout cancels the upstream.
func TestFakeScenariosThroughFerry(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		name := "HTTP/1.1"
		if tlsOn {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := testsupport.NewFakeAPI(t)
			if tlsOn {
				fake = testsupport.NewFakeAPITLS(t)
			}
			h := newHarness(t, fake.URL, func(o *Options) {
				o.FirstByteTimeout = 500 * time.Millisecond
				// Streaming requests wait road.stream_first_byte_timeout.
				o.StreamFirstByteTimeout = 500 * time.Millisecond
				o.Routes = chooser(t, "direct", "direct", fake.CertPool)
			})
			fakeScenarios(t, fake, h)
		})
	}
}

func fakeScenarios(t *testing.T, fake *testsupport.FakeAPI, h *harness) {
	tests := []struct {
		scenario string
		status   int
		errType  string
		class    storage.ErrorClass
		repaired string // what Ferry appends
	}{
		{scenario: testsupport.ScenarioCutAfterStart, status: 200, errType: "api_error", class: storage.ClassNetwork, repaired: "event: error\n"},
		{scenario: testsupport.ScenarioCutMidStream, status: 200, errType: "api_error", class: storage.ClassNetwork, repaired: stopFrame(0) + "event: error\n"},
		{scenario: testsupport.ScenarioStreamError, status: 200, errType: "overloaded_error", class: storage.ClassUpstream5xx},
		{scenario: testsupport.ScenarioRateLimited, status: 429, errType: "rate_limit_error", class: storage.ClassUpstream4xx},
		{scenario: testsupport.ScenarioOverloaded, status: 529, errType: "overloaded_error", class: storage.ClassUpstream5xx},
		{scenario: "stream;delay=3s", status: 504, errType: "timeout_error", class: storage.ClassNetwork},
	}
	for _, tc := range tests {
		hdr := keyHeader(clientKey)
		hdr.Set(testsupport.ScenarioHeader, tc.scenario)
		res, got := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m","stream":true}`), hdr)
		rec := h.rec.next(t)
		if res.StatusCode != tc.status || rec.ErrorType != tc.errType || rec.ErrorClass != tc.class {
			t.Errorf("%s: status %d record %+v", tc.scenario, res.StatusCode, rec)
		}
		if tc.status == 200 {
			want := fake.ExpectedBody(tc.scenario)
			if !bytes.HasPrefix(got, want) || !strings.HasPrefix(string(got[len(want):]), tc.repaired) {
				t.Errorf("%s: got %q", tc.scenario, got)
			}
		}
		if tc.status == 429 && res.Header.Get("Retry-After") != "7" {
			t.Errorf("retry-after %q", res.Header.Get("Retry-After"))
		}
	}
	if _, ok := fake.WaitCancelled(10 * time.Second); !ok {
		t.Error("the fake did not see the timed-out request cancelled")
	}
	if fake.CertPool != nil {
		for _, r := range fake.Requests() {
			if r.Proto != "HTTP/2.0" {
				t.Errorf("%s over %s", r.Scenario, r.Proto)
			}
		}
	}
}

func TestClientDisconnectReachesFake(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPITLS(t)
	socks := testsupport.StartMicrosocks(t, "", "")
	h := newHarness(t, fake.URL, func(o *Options) { o.Routes = chooser(t, "socks", socks.URL(false), fake.CertPool) })
	req, _ := http.NewRequest("POST", h.url+"/v1/messages", strings.NewReader(`{"model":"m","stream":true}`))
	req.Header.Set("X-Api-Key", clientKey)
	req.Header.Set(testsupport.ScenarioHeader, "slow;gap=1s;total=30s")
	res, err := rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(res.Body, buf); err != nil {
		t.Fatal(err)
	}
	res.Body.Close() // the client leaves mid-stream
	r, ok := fake.WaitCancelled(10 * time.Second)
	if !ok || r.Proto != "HTTP/2.0" {
		t.Fatalf("fake saw no cancellation (ok=%v proto %s)", ok, r.Proto)
	}
	if rec := h.rec.next(t); rec.Status != StatusClientClosed {
		t.Errorf("record %+v", rec)
	}
}

func TestIdleTimeoutWithFake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scenario string
		whole    bool
	}{
		// Wide margins both ways: a loaded 2-core CI machine delays
		// frames by hundreds of milliseconds.
		{"slow;gap=1s;total=20s", true},
		{"long_gap;gap=8s", false},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			// An event stream of /v1/messages follows road.stream_idle_timeout.
			t.Parallel()
			fake := testsupport.NewFakeAPI(t)
			h := newHarness(t, fake.URL, func(o *Options) { o.StreamIdleTimeout = 4 * time.Second })
			hdr := keyHeader(clientKey)
			hdr.Set(testsupport.ScenarioHeader, tc.scenario)
			res, got := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m","stream":true}`), hdr)
			rec := h.rec.next(t)
			want := fake.ExpectedBody(tc.scenario)
			if tc.whole {
				if res.StatusCode != 200 || !bytes.Equal(got, want) || rec.ErrorClass != "" || rec.Total < 19*time.Second {
					t.Errorf("slow stream not whole: %d of %d bytes, record %+v", len(got), len(want), rec)
				}
				return
			}
			s := string(got)
			i := strings.Index(s, "event: error\n")
			if i < 0 || !strings.Contains(s[i:], `"timeout_error"`) || !strings.HasSuffix(s, "\n\n") || !strings.Contains(s, "event: content_block_stop") {
				t.Errorf("stream with an 8 s gap:\n%s", s)
			}
			if !bytes.HasPrefix(want, got[:strings.LastIndex(s[:i], "event: content_block_stop")]) {
				t.Errorf("bytes before the repair differ from the fake's")
			}
			if rec.ErrorType != "timeout_error" || rec.ErrorClass != storage.ClassNetwork {
				t.Errorf("record %+v", rec)
			}
			if _, ok := fake.WaitCancelled(10 * time.Second); !ok {
				t.Error("the fake did not see the idle request cancelled")
			}
		})
	}
}

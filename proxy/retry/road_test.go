package retry_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/retry"
	"github.com/ferry-gateway/ferry/proxy/route"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// The road rig (issue 9): Ferry → toxiproxy → a real proxy (microsocks)
// → the fake API over HTTPS and HTTP/2. Every test here goes through the
// whole pipeline: the attempt loop, this package's policy, the route
// Manager's candidates, breaker and stickiness.

const testKey = "sk-ant-api03-road-test-key"

type recorder chan storage.Record

func (r recorder) Record(rec storage.Record) { r <- rec }

func (r recorder) next(t *testing.T) storage.Record {
	t.Helper()
	select {
	case rec := <-r:
		return rec
	case <-time.After(20 * time.Second):
		t.Fatal("no record")
		return storage.Record{}
	}
}

type rig struct {
	fake    *testsupport.FakeAPI
	toxi    *testsupport.Toxiproxy
	m       *route.Manager
	url     string
	recs    recorder
	metrics *retry.Metrics
	reg     *prometheus.Registry
}

// newRig builds the rig; routes name the ways out, where "{toxi}" in a URL
// is the toxiproxy's address. mod adjusts the proxy's options.
func newRig(t *testing.T, routes []route.Route, policy *retry.Policy, mod func(*proxy.Options)) *rig {
	t.Helper()
	return newRigDial(t, "microsocks", routes, policy, route.DialOptions{}, mod)
}

// newRigDial is newRig with the routes' dial options (the fake's CA and
// a short connect timeout are added).
// via is the real proxy behind toxiproxy: "microsocks" (routes say
// socks5://{toxi}) or "tinyproxy" (http://{toxi}).
func newRigDial(t *testing.T, via string, routes []route.Route, policy *retry.Policy, dial route.DialOptions, mod func(*proxy.Options)) *rig {
	t.Helper()
	r := &rig{fake: testsupport.NewFakeAPITLS(t), recs: make(recorder, 2048), reg: prometheus.NewRegistry()}
	var upstream *testsupport.Proxy
	switch via {
	case "microsocks":
		upstream = testsupport.StartMicrosocks(t, "", "")
	case "tinyproxy":
		upstream = testsupport.StartTinyproxy(t, "", "")
	default:
		t.Fatalf("no proxy %q", via)
	}
	r.toxi = testsupport.StartToxiproxy(t, upstream.Addr)
	for i := range routes {
		routes[i].URL = strings.ReplaceAll(routes[i].URL, "{toxi}", r.toxi.Addr)
	}
	st := &memSettings{data: map[string]any{route.SettingRoutes: routes}}
	base, err := url.Parse(r.fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	r.metrics = retry.NewMetrics(func() []route.Status { return r.m.Routes() })
	if err := r.metrics.Register(r.reg); err != nil {
		t.Fatal(err)
	}
	dial.RootCAs, dial.ConnectTimeout = r.fake.CertPool, 3*time.Second
	r.m, err = route.NewManager(route.ManagerOptions{Settings: st, Target: base, Metrics: r.metrics, Dial: dial})
	if err != nil {
		t.Fatal(err)
	}
	policy.Metrics = r.metrics
	o := proxy.Options{APIBase: base, Routes: r.m, Retry: policy, Recorder: r.recs, OnStall: r.metrics.Stall,
		Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&o)
	}
	p, err := proxy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// memSettings is route.Settings in memory (values kept as given).
type memSettings struct{ data map[string]any }

func (s *memSettings) GetSetting(key string, into any) (bool, error) {
	v, ok := s.data[key]
	if !ok {
		return false, nil
	}
	switch dst := into.(type) {
	case *[]route.Route:
		*dst = v.([]route.Route)
	default:
		return false, nil
	}
	return true, nil
}

func (s *memSettings) PutSetting(key string, v any) error { s.data[key] = v; return nil }

func (r *rig) post(t *testing.T, scenario string, stream bool) (*http.Response, string) {
	t.Helper()
	return r.postAs(t, testKey, scenario, stream)
}

// postAs sends a Messages request with key (the account).
func (r *rig) postAs(t *testing.T, key, scenario string, stream bool) (*http.Response, string) {
	t.Helper()
	body := `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
	if stream {
		body = `{"model":"claude-sonnet-4-5","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	}
	req, _ := http.NewRequest("POST", r.url+"/v1/messages", strings.NewReader(body))
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(testsupport.ScenarioHeader, scenario)
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("client read: %v", err)
	}
	return res, string(b)
}

// Connection resets on the road (toxiproxy reset_peer on a share of new
// connections, during the proxy handshake: nothing was sent) cost the
// client time, never an error.
func TestRoadResetsNeverReachTheClient(t *testing.T) {
	for _, via := range []struct{ proxy, url string }{{"microsocks", "socks5://{toxi}"}, {"tinyproxy", "http://{toxi}"}} {
		t.Run(via.proxy, func(t *testing.T) {
			r := newRigDial(t, via.proxy, []route.Route{{Name: "Abroad", URL: via.url}}, &retry.Policy{MaxAttempts: 8}, route.DialOptions{}, nil)
			resetsNeverReachTheClient(t, r)
		})
	}
}

func resetsNeverReachTheClient(t *testing.T, r *rig) {
	if err := r.toxi.Add("resets", "reset_peer", "upstream", 0.3, map[string]any{"timeout": 0}); err != nil {
		t.Fatal(err)
	}
	retried := 0
	for i := range 40 {
		// Every request on a new connection, as after an idle or a dead
		// tunnel: resets hit new connections.
		r.m.CloseIdleConnections()
		res, body := r.post(t, testsupport.ScenarioMessage, i%2 == 1)
		if res.StatusCode != 200 || res.Header.Get("X-Ferry-Error") != "" {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
		rec := r.recs.next(t)
		if got := res.Header.Get("X-Ferry-Attempts"); got != strconv.Itoa(len(rec.Attempts)) || res.Header.Get("X-Ferry-Route") != "Abroad" {
			t.Fatalf("request %d: x-ferry-attempts %q x-ferry-route %q, record %+v", i, got, res.Header.Get("X-Ferry-Route"), rec.Attempts)
		}
		if len(rec.Attempts) > 1 {
			retried++
			for _, a := range rec.Attempts[:len(rec.Attempts)-1] {
				if a.Class == "" || a.Route != "Abroad" {
					t.Fatalf("request %d: failed attempt %+v", i, a)
				}
			}
		}
	}
	if retried == 0 {
		t.Fatal("no request was retried: the resets did not happen")
	}
	if n := r.counter(t, "ferry_retries_total", "reason", "road"); n < float64(retried) {
		t.Fatalf("ferry_retries_total{reason=road} %v, want ≥ %d", n, retried)
	}
	t.Logf("%d of 40 requests needed more than one attempt", retried)
}

// counter reads a counter of the rig's registry, summed over the series
// whose labels include want (name=value pairs).
func (r *rig) counter(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(want); i += 2 {
				if labels[want[i]] != want[i+1] {
					continue series
				}
			}
			if m.GetCounter() != nil {
				sum += m.GetCounter().GetValue()
			} else if m.GetGauge() != nil {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// A route that dies fails over to the next one; after three road failures
// in a row its breaker opens and it is skipped; the account stays on the
// route it moved to.
func TestRoadFailoverBreakerAndStickiness(t *testing.T) {
	dead := testsupport.FreePort(t)
	r := newRig(t, []route.Route{
		{Name: "Dead", URL: "socks5://127.0.0.1:" + strconv.Itoa(dead)},
		{Name: "Live", URL: "socks5://{toxi}"},
	}, &retry.Policy{}, nil)
	for i := 1; i <= route.BreakerThreshold; i++ {
		// A new account each time: Auto's pick (the first route, before
		// any probe) is its first candidate.
		res, body := r.postAs(t, testKey+strconv.Itoa(i), testsupport.ScenarioMessage, false)
		rec := r.recs.next(t)
		if res.StatusCode != 200 || res.Header.Get("X-Ferry-Route") != "Live" || res.Header.Get("X-Ferry-Attempts") != "2" {
			t.Fatalf("request %d: %d route %q attempts %q: %s", i, res.StatusCode, res.Header.Get("X-Ferry-Route"), res.Header.Get("X-Ferry-Attempts"), body)
		}
		if len(rec.Attempts) != 2 || rec.Attempts[0].Route != "Dead" || rec.Attempts[0].Class != proxy.ClassConnect ||
			rec.Attempts[1].Route != "Live" || rec.Attempts[1].Class != "" || rec.Route != "Live" {
			t.Fatalf("request %d: record route %q attempts %+v", i, rec.Route, rec.Attempts)
		}
	}
	var dst route.Status
	for _, s := range r.m.Routes() {
		if s.Name == "Dead" {
			dst = s
		}
	}
	if dst.Breaker != route.BreakerOpen {
		t.Fatalf("Dead's breaker %q after %d failures", dst.Breaker, route.BreakerThreshold)
	}
	res, _ := r.postAs(t, testKey+"-new", testsupport.ScenarioMessage, false)
	rec := r.recs.next(t)
	if res.Header.Get("X-Ferry-Attempts") != "1" || len(rec.Attempts) != 1 {
		t.Fatalf("with the breaker open: attempts %q %+v, want the dead route skipped", res.Header.Get("X-Ferry-Attempts"), rec.Attempts)
	}
	if got := r.counter(t, "ferry_route_breaker_state", "route", "Dead", "state", "open"); got != 1 {
		t.Fatalf("breaker gauge %v", got)
	}
	if got := r.counter(t, "ferry_failovers_total", "from", "Dead", "to", "Live"); got != 0 {
		// The account never got an answer on Dead: it started on Live.
		t.Fatalf("failovers %v for an account that never had Dead", got)
	}
}

// 529 and 5xx are retried once, on the same route; a 429 only with a
// short retry-after; other 4xx never.
func TestRoadStatusRetries(t *testing.T) {
	r := newRig(t, []route.Route{{Name: "Abroad", URL: "socks5://{toxi}"}}, &retry.Policy{MaxAttempts: 5}, nil)
	cases := []struct {
		scenario string
		status   int
		upstream int // requests the fake saw
	}{
		{testsupport.ScenarioOverloaded, 529, 2},
		{"error;status=500", 500, 2},
		{"error;status=504", 504, 2},
		{"error;status=400", 400, 1},
		{"rate_limited;retry=1", 429, 2},
		{"rate_limited;retry=30", 429, 1},
		// A spent limit says so only in its body, and is never retried.
		{"spend_limited;retry=1", 429, 1},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			r.fake.Reset()
			res, body := r.post(t, c.scenario, false)
			rec := r.recs.next(t)
			if strings.HasPrefix(c.scenario, "spend") && !strings.HasSuffix(strings.TrimSpace(body), `"enforced_spend_limit_reached"}},"request_id":"`+r.fake.Last().RequestID+`"}`) {
				t.Fatalf("the 429's body, read to decide, did not reach the client whole: %s", body)
			}
			if res.StatusCode != c.status || len(r.fake.Requests()) != c.upstream || res.Header.Get("X-Ferry-Attempts") != strconv.Itoa(c.upstream) {
				t.Fatalf("status %d, fake saw %d, x-ferry-attempts %q; want %d after %d", res.StatusCode, len(r.fake.Requests()),
					res.Header.Get("X-Ferry-Attempts"), c.status, c.upstream)
			}
			for _, a := range rec.Attempts {
				if a.Route != "Abroad" {
					t.Fatalf("attempt on %q: a status never fails over", a.Route)
				}
			}
		})
	}
}

// A stream silent longer than road.stream_idle_timeout is ended by Ferry
// with a timeout_error frame naming the route; a gap shorter than the
// timeout is left alone.
func TestRoadStallEnded(t *testing.T) {
	r := newRig(t, []route.Route{{Name: "Abroad", URL: "socks5://{toxi}"}}, &retry.Policy{}, func(o *proxy.Options) {
		o.StreamIdleTimeout = time.Second
	})
	res, body := r.post(t, "long_gap;gap=600ms", true)
	if res.StatusCode != 200 || !strings.Contains(body, "event: message_stop") || strings.Contains(body, "event: error") {
		t.Fatalf("a gap shorter than the timeout was cut: %s", body)
	}
	r.recs.next(t)
	res, body = r.post(t, "long_gap;gap=10s", true)
	i := strings.Index(body, "event: error\n")
	if res.StatusCode != 200 || i < 0 || strings.Contains(body, "event: message_stop") {
		t.Fatalf("stalled stream: %s", body)
	}
	frame := body[i:]
	if !strings.Contains(frame, `"timeout_error"`) || !strings.Contains(frame, `route \"Abroad\"`) || !strings.Contains(frame, "road.stream_idle_timeout") {
		t.Fatalf("error frame %q", frame)
	}
	rec := r.recs.next(t)
	if rec.ErrorType != "timeout_error" || rec.ErrorClass != storage.ClassNetwork {
		t.Fatalf("record %+v", rec)
	}
	if _, ok := r.fake.WaitCancelled(5 * time.Second); !ok {
		t.Fatal("the fake did not see the stalled stream cancelled")
	}
	if got := r.counter(t, "ferry_stream_stalls_total", "route", "Abroad"); got != 1 {
		t.Fatalf("ferry_stream_stalls_total %v", got)
	}
}

// A streaming request whose headers don't come within
// road.stream_first_byte_timeout is a road failure: sent, so retried once.
func TestRoadStreamFirstByteTimeout(t *testing.T) {
	r := newRig(t, []route.Route{{Name: "Abroad", URL: "socks5://{toxi}"}}, &retry.Policy{}, func(o *proxy.Options) {
		o.StreamFirstByteTimeout = 300 * time.Millisecond
	})
	res, body := r.post(t, "stream;delay=5s", true)
	rec := r.recs.next(t)
	if res.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, "road.stream_first_byte_timeout") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if len(rec.Attempts) != 2 || rec.Attempts[0].Class != proxy.ClassFirstByte || rec.Attempts[1].Class != proxy.ClassFirstByte {
		t.Fatalf("attempts %+v, want two first_byte failures (sent: retried once)", rec.Attempts)
	}
	// The same delay without "stream": the non-streaming first-byte
	// timeout (minutes) applies, and the answer comes.
	res, _ = r.post(t, "message;delay=500ms", false)
	if res.StatusCode != 200 {
		t.Fatalf("non-streaming request with a 500 ms think: %d", res.StatusCode)
	}
}

// A tunnel that dies silently (toxiproxy's timeout toxic: no byte passes
// either way, no FIN, no RST): the HTTP/2 PING goes unanswered, the
// connection closes, and its stream ends at once with the repair and a
// timeout_error, long before road.stream_idle_timeout.
func TestRoadDeadTunnelFoundByPing(t *testing.T) {
	r := newRigDial(t, "microsocks", []route.Route{{Name: "Abroad", URL: "socks5://{toxi}"}}, &retry.Policy{},
		route.DialOptions{H2PingInterval: 300 * time.Millisecond, H2PingTimeout: 300 * time.Millisecond},
		func(o *proxy.Options) { o.StreamIdleTimeout = time.Minute })
	body := `{"model":"claude-sonnet-4-5","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"hi"}]}`
	req, _ := http.NewRequest("POST", r.url+"/v1/messages", strings.NewReader(body))
	req.Header.Set("X-Api-Key", testKey)
	req.Header.Set(testsupport.ScenarioHeader, "slow;gap=100ms;total=30s")
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first := make([]byte, 64)
	if _, err := io.ReadFull(res.Body, first); err != nil {
		t.Fatal(err)
	}
	if err := r.toxi.Add("dead", "timeout", "downstream", 1, map[string]any{"timeout": 0}); err != nil {
		t.Fatal(err)
	}
	if err := r.toxi.Add("dead_up", "timeout", "upstream", 1, map[string]any{"timeout": 0}); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("the repaired stream must end cleanly: %v", err)
	}
	s := string(rest)
	i := strings.Index(s, "event: error\n")
	if i < 0 || !strings.Contains(s[i:], `"timeout_error"`) || !strings.Contains(s[i:], "road.h2_ping_timeout") || strings.Contains(s, "message_stop") {
		t.Fatalf("after the tunnel died: %s", s)
	}
	if got := r.counter(t, "ferry_stream_stalls_total", "route", "Abroad"); got != 1 {
		t.Fatalf("ferry_stream_stalls_total %v", got)
	}
}

// When no route works the client gets Ferry's error in Anthropic's shape,
// after max_attempts tries, saying so.
func TestRoadAllRoutesDead(t *testing.T) {
	dead := testsupport.FreePort(t)
	r := newRig(t, []route.Route{{Name: "Dead", URL: "socks5://127.0.0.1:" + strconv.Itoa(dead)}}, &retry.Policy{}, nil)
	res, body := r.post(t, testsupport.ScenarioMessage, false)
	rec := r.recs.next(t)
	if res.StatusCode != http.StatusBadGateway || res.Header.Get("X-Ferry-Error") != "1" || res.Header.Get("X-Ferry-Attempts") != "3" ||
		!strings.Contains(body, `"type":"error"`) || !strings.Contains(body, `route \"Dead\"`) {
		t.Fatalf("%d attempts %q: %s", res.StatusCode, res.Header.Get("X-Ferry-Attempts"), body)
	}
	if len(rec.Attempts) != 3 || rec.Attempts[2].Class != proxy.ClassConnect {
		t.Fatalf("attempts %+v", rec.Attempts)
	}
}

// The road of the reports: 75 ms ± 15 ms each way, a thin pipe, TCP
// segments sliced small. Streams arrive byte for byte as the API sent
// them, UTF-8 split across reads included.
func TestRoadSlowSlicedRoadKeepsBytes(t *testing.T) {
	r := newRig(t, []route.Route{{Name: "Abroad", URL: "socks5://{toxi}"}}, &retry.Policy{}, nil)
	if err := r.toxi.SetRTT(150*time.Millisecond, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := r.toxi.Add("thin", "bandwidth", "downstream", 1, map[string]any{"rate": 256}); err != nil {
		t.Fatal(err)
	}
	if err := r.toxi.Add("sliced", "slicer", "downstream", 1, map[string]any{"average_size": 64, "size_variation": 48, "delay": 200}); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{testsupport.ScenarioStream, testsupport.ScenarioUTF8Split, testsupport.ScenarioToolUse} {
		res, body := r.post(t, sc, true)
		rec := r.recs.next(t)
		if res.StatusCode != 200 || body != string(r.fake.ExpectedBody(sc)) {
			t.Fatalf("%s: %d, %d bytes, want the fake's %d byte for byte", sc, res.StatusCode, len(body), len(r.fake.ExpectedBody(sc)))
		}
		if rec.ErrorType != "" || len(rec.Attempts) != 1 {
			t.Fatalf("%s: record %+v", sc, rec)
		}
	}
}

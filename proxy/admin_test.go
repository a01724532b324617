package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

func TestPauseResume(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPI(t)
	h := newHarness(t, fake.URL, nil)
	evs, cancel := h.bus.Subscribe(16)
	defer cancel()

	// Without the admin token: refused.
	res, body := h.do(t, "POST", "/_ferry/pause", nil, http.Header{HeaderAdminToken: {"wrong"}})
	if res.StatusCode != 401 || !strings.Contains(string(body), "authentication_error") || h.p.Paused() {
		t.Fatalf("pause without token: %d %s", res.StatusCode, body)
	}
	res, _ = h.do(t, "POST", "/_ferry/pause", nil, http.Header{HeaderAdminToken: {"admin-secret"}})
	if res.StatusCode != 200 || !h.p.Paused() {
		t.Fatalf("pause: %d", res.StatusCode)
	}
	res, body = h.do(t, "POST", "/v1/messages", []byte(`{"model":"m"}`), keyHeader(clientKey))
	if res.StatusCode != 503 || res.Header.Get("X-Ferry-Error") != "1" || !strings.Contains(string(body), `"api_error"`) || !strings.Contains(string(body), "paused") {
		t.Errorf("paused request: %d %s", res.StatusCode, body)
	}
	if rec := h.rec.next(t); rec.Status != 503 || rec.ErrorClass != storage.ClassFerry || rec.ErrorType != "api_error" {
		t.Errorf("record %+v", rec)
	}
	if len(fake.Requests()) != 0 {
		t.Error("a paused request reached the upstream")
	}
	var hl Health
	res, body = h.do(t, "GET", "/_ferry/health", nil, nil)
	if err := json.Unmarshal(body, &hl); err != nil || !hl.Paused {
		t.Errorf("health while paused: %s", body)
	}
	res, _ = h.do(t, "POST", "/_ferry/resume", nil, http.Header{HeaderAdminToken: {"admin-secret"}})
	if res.StatusCode != 200 || h.p.Paused() {
		t.Fatalf("resume: %d", res.StatusCode)
	}
	if res, _ := h.do(t, "POST", "/v1/messages", []byte(`{"model":"m"}`), keyHeader(clientKey)); res.StatusCode != 200 {
		t.Errorf("after resume: %d", res.StatusCode)
	}
	var states []string
	for len(states) < 2 {
		select {
		case e := <-evs:
			if e.Kind == events.StateChanged {
				states = append(states, e.Detail)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("state events %v", states)
		}
	}
	if states[0] != "paused" || states[1] != "running" {
		t.Errorf("state events %v", states)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPITLS(t)
	socks := testsupport.StartMicrosocks(t, "alice", "s3cret")
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Routes = chooser(t, "office", socks.URL(true), fake.CertPool)
		o.Version = "1.2.3"
		o.InsecureSkipVerify = true
	})
	res, body := h.do(t, "GET", "/_ferry/health", nil, keyHeader(testToken))
	var hl Health
	if err := json.Unmarshal(body, &hl); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if res.StatusCode != 200 || hl.Version != "1.2.3" || !hl.Reachable || hl.Paused || hl.Route.Name != "office" ||
		hl.Route.URL != "socks5://alice:***@"+socks.Addr || hl.UptimeS < 0 || hl.Checked.IsZero() {
		t.Errorf("health %s", body)
	}
	if strings.Contains(string(body), "s3cret") {
		t.Error("proxy password in health")
	}
	if res.Header.Get("X-Ferry-Warning") == "" {
		t.Error("no x-ferry-warning with InsecureSkipVerify")
	}

	socks.Stop()
	// The cached result holds a few seconds; a new Proxy probes afresh.
	h2 := newHarness(t, fake.URL, func(o *Options) { o.Routes = chooser(t, "office", socks.URL(true), fake.CertPool) })
	_, body = h2.do(t, "GET", "/_ferry/health", nil, http.Header{HeaderAdminToken: {"admin-secret"}})
	hl = Health{}
	json.Unmarshal(body, &hl)
	if hl.Reachable || hl.Error == "" || strings.Contains(hl.Error, "s3cret") {
		t.Errorf("health with the proxy down: %s", body)
	}
	if len(h.rec.all())+len(h2.rec.all()) != 0 {
		t.Error("admin requests were recorded")
	}
}

func TestHandleAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "http://127.0.0.1:1", nil)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi "+r.Method) })
	h.p.HandleAdmin("GET /stats", hello, false)
	h.p.HandleAdmin("/_ferry/prices", hello, true)
	tests := []struct {
		method, path string
		hdr          http.Header
		status       int
		body         string
	}{
		{"GET", "/_ferry/stats", nil, 401, "authentication_error"},
		{"GET", "/_ferry/stats", keyHeader(testToken), 200, "hi GET"},
		{"GET", "/_ferry/stats", http.Header{"Authorization": {"Bearer " + testToken}}, 200, "hi GET"},
		{"GET", "/_ferry/stats", http.Header{HeaderAdminToken: {"admin-secret"}}, 200, "hi GET"},
		{"GET", "/_ferry/stats", keyHeader("sk-ant-not-the-token"), 401, "authentication_error"},
		{"POST", "/_ferry/stats", nil, 404, "no admin endpoint POST"},
		{"PUT", "/_ferry/prices", nil, 401, "authentication_error"},
		{"PUT", "/_ferry/prices", http.Header{HeaderAdminToken: {"admin-secret"}}, 200, "hi PUT"},
		{"GET", "/_ferry/nothing", nil, 404, "not_found_error"},
	}
	for _, tc := range tests {
		res, body := h.do(t, tc.method, tc.path, nil, tc.hdr)
		if res.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, res.StatusCode, body)
		}
	}
	// Remote access: health stays open, reduced to up/down and the version.
	r := newHarness(t, "http://127.0.0.1:1", func(o *Options) { o.AllowRemote = true; o.ListenAddr = "0.0.0.0:7856" })
	if res, body := r.do(t, "GET", "/_ferry/health", nil, nil); res.StatusCode != 200 || strings.Contains(string(body), "Direct") {
		t.Errorf("remote health without token: %d %s", res.StatusCode, body)
	}
	if res, _ := r.do(t, "GET", "/_ferry/health", nil, http.Header{"X-Ferry-Token": {testToken}}); res.StatusCode != 200 {
		t.Errorf("remote health with token: %d", res.StatusCode)
	}
}

// Issue 14: another local process read usage, route hosts and user names,
// the masked key and the settings without any token. Every read under
// /_ferry/ now needs one; health without one says up/down and the version.
func TestAdminReadsNeedAToken(t *testing.T) {
	t.Parallel()
	fake := testsupport.NewFakeAPITLS(t)
	socks := testsupport.StartMicrosocks(t, "alice", "s3cret")
	h := newHarness(t, fake.URL, func(o *Options) {
		o.Routes = chooser(t, "office", socks.URL(true), fake.CertPool)
		o.Version = "1.2.3"
	})
	secret := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "usage of alice") })
	h.p.HandleAdmin("GET /_ferry/usage", secret, false)
	var public atomic.Bool
	h.p.Mount("GET /_ferry/metrics", secret, AccessRead, public.Load)

	res, body := h.do(t, "GET", "/_ferry/usage", nil, nil)
	if res.StatusCode != 401 || strings.Contains(string(body), "alice") {
		t.Errorf("usage without a token: %d %s", res.StatusCode, body)
	}
	res, body = h.do(t, "GET", "/_ferry/health", nil, nil)
	if res.StatusCode != 200 || strings.Contains(string(body), "alice") || strings.Contains(string(body), "office") ||
		!strings.Contains(string(body), `"version": "1.2.3"`) || !strings.Contains(string(body), `"reachable": true`) {
		t.Errorf("open health: %d %s", res.StatusCode, body)
	}
	if res, _ := h.do(t, "GET", "/_ferry/metrics", nil, nil); res.StatusCode != 401 {
		t.Errorf("metrics without a token, metrics.public off: %d", res.StatusCode)
	}
	public.Store(true)
	if res, _ := h.do(t, "GET", "/_ferry/metrics", nil, nil); res.StatusCode != 200 {
		t.Errorf("metrics without a token, metrics.public on: %d", res.StatusCode)
	}
}

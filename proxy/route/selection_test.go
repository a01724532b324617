package route

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func TestManagerAutoPicksFaster(t *testing.T) {
	api := startFakeAPI(t)
	fast := testsupport.StartMicrosocks(t, "", "")
	slowBackend := testsupport.StartMicrosocks(t, "", "")
	slow := testsupport.StartDelayed(t, slowBackend, 150*time.Millisecond).Addr
	st := &mapSettings{}
	if err := st.PutSetting(SettingRoutes, []Route{{Name: "Slow", URL: "socks5://" + slow}, {Name: "Fast", URL: "socks5://" + fast.Addr}}); err != nil {
		t.Fatal(err)
	}
	bus := &events.Bus{}
	ch, cancel := bus.Subscribe(64)
	defer cancel()
	m, err := NewManager(ManagerOptions{Settings: st, Dial: DialOptions{RootCAs: api.Roots, ConnectTimeout: 5 * time.Second}, Target: api.URL, Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	if m.Choice() != AutoChoice || current(t, m) != "Slow" {
		t.Fatalf("before probes: choice %q, current %q; want auto serving the first route", m.Choice(), current(t, m))
	}
	hs := m.TestNow(testCtx(t))
	if len(hs) != 2 || !hs[0].Up || !hs[1].Up {
		t.Fatalf("probes: %+v", hs)
	}
	if hs[0].Latency <= hs[1].Latency {
		t.Fatalf("the delayed route probed faster: %v vs %v", hs[0].Latency, hs[1].Latency)
	}
	if got := current(t, m); got != "Fast" {
		t.Fatalf("auto serves %q, want Fast", got)
	}
	sw := kinds(drain(ch), events.RouteSwitched)
	if len(sw) != 1 || sw[0].Route != "Fast" || sw[0].Detail != AutoChoice {
		t.Fatalf("RouteSwitched events %+v", sw)
	}
	if got := names(m.Routes()); got != "Slow,Fast*" {
		t.Fatalf("Routes() = %s", got)
	}

	// A request through the chosen route really works, over HTTP/2.
	u, _ := m.Current()
	resp, body, err := get(t, u, api.URL.String()+"/v1/models")
	if err != nil {
		t.Fatalf("request through auto's pick: %v", err)
	}
	api.assertH2(t, resp, body)

	// The fast one stops: Auto moves to the slow one, which is up.
	fast.Stop()
	m.TestNow(testCtx(t))
	if got := current(t, m); got != "Slow" {
		t.Fatalf("after Fast went down auto serves %q", got)
	}
	st2 := m.Routes()
	if st2[1].Health.Up || st2[1].Health.Err == "" || len(st2[1].History) != 2 || st2[1].History[1] != 0 {
		t.Fatalf("Fast status after stop: %+v", st2[1])
	}
}

// TestManagerSwitchKeepsStreams: a stream that started on one route runs to
// its end after the user switches routes and even removes the old one.
func TestManagerSwitchKeepsStreams(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: ping\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "event: message_stop\ndata: {}\n\n")
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer close(release)
	target, _ := url.Parse(srv.URL)
	ms := testsupport.StartMicrosocks(t, "", "")
	st := &mapSettings{}
	st.PutSetting(SettingRoutes, []Route{{Name: "Socks", URL: "socks5://" + ms.Addr}, {Name: "Direct", URL: "direct"}})
	st.PutSetting(SettingChoice, "Socks")
	m, err := NewManager(ManagerOptions{Settings: st, Target: target, Dial: DialOptions{RootCAs: poolOf(srv)}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := m.Current()
	req, _ := http.NewRequestWithContext(testCtx(t), http.MethodPost, srv.URL+"/v1/messages", nil)
	resp, err := (&http.Client{Transport: u.Transport}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("event: ping\ndata: {}\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	if err := m.Use("Direct"); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove("Socks"); err != nil {
		t.Fatal(err)
	}
	if current(t, m) != "Direct" {
		t.Fatal("the switch did not take effect")
	}
	release <- struct{}{}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "event: message_stop\ndata: {}\n\n" {
		t.Fatalf("stream after switch: %q, %v", rest, err)
	}
}

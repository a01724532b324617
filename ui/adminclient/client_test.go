package adminclient_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
	"github.com/ferry-gateway/ferry/proxy/events"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/proxy/testsupport/testcore"
	"github.com/ferry-gateway/ferry/ui/adminclient"
	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// realCore runs a real core (proxy, bbolt file, admin API) in front of
// the fake Anthropic API.
func realCore(t *testing.T) (*app.Server, *testsupport.FakeAPI) {
	t.Helper()
	fake := testsupport.NewFakeAPI(t)
	return testcore.Start(t, fake.URL), fake
}

func message(t *testing.T, base string) {
	t.Helper()
	send(t, base, "hi")
}

// Every operation a window offers, against a real core, through the admin
// API only.
func TestClientAgainstARealCore(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	ctx := context.Background()

	stream, cancel := c.Subscribe(64)
	defer cancel()

	if c.BaseURL() != srv.BaseURL() || c.DataDir() != srv.DataDir() {
		t.Fatalf("base URL %q data dir %q", c.BaseURL(), c.DataDir())
	}
	if c.LocalToken() != srv.Keys().LocalToken() || c.LocalToken() == "" {
		t.Fatal("local token differs from the core's")
	}
	if err := c.Pause(); err != nil || !c.Paused() || !srv.Proxy().Paused() {
		t.Fatalf("pause: %v, paused=%v", err, c.Paused())
	}
	if err := c.Resume(); err != nil || c.Paused() {
		t.Fatalf("resume: %v", err)
	}

	if err := c.AddRoute("Office", "socks5://alice:secret@127.0.0.1:1080"); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateRoute("Office", "Office 2", ""); err != nil {
		t.Fatal(err)
	}
	var office coreapi.RouteStatus
	for _, r := range c.Routes() {
		if r.Name == "Office 2" {
			office = r
		}
	}
	if office.Name == "" || strings.Contains(office.URL, "secret") || !strings.Contains(office.URL, "127.0.0.1:1080") {
		t.Fatalf("renamed route kept its URL, masked: %+v", office)
	}
	if err := c.UseRoute("Office 2"); err != nil || c.Choice() != "Office 2" {
		t.Fatalf("use route: %v, choice %q", err, c.Choice())
	}
	if err := c.UseAuto(); err != nil || c.Choice() != coreapi.AutoChoice {
		t.Fatalf("use auto: %v", err)
	}
	if err := c.RemoveRoute("Office 2"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveRoute("nope"); err == nil {
		t.Fatal("removing an unknown route: no error")
	}

	message(t, srv.BaseURL())
	now := time.Now()
	var st coreapi.Stats
	for deadline := now.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var err error
		if st, err = c.Stats(ctx, now.Add(-time.Hour), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if st.Requests == 1 {
			break
		}
	}
	if st.Requests != 1 || st.RequestsToday != 1 || len(st.ByModel) != 1 {
		t.Fatalf("stats after one request: %+v", st)
	}
	pts, err := c.Series(ctx, now.Add(-5*time.Minute).Truncate(time.Minute), now.Truncate(time.Minute).Add(time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range pts {
		sum += p.Requests
	}
	if sum != 1 {
		t.Fatalf("series counts %d requests, want 1", sum)
	}
	recs, err := c.Recent(ctx, 10)
	if err != nil || len(recs) != 1 || !strings.HasPrefix(recs[0].Model, "claude-sonnet-4-5") || recs[0].Status != 200 {
		t.Fatalf("recent: %v %+v", err, recs)
	}
	var csv bytes.Buffer
	if err := c.ExportCSV(ctx, &csv, time.Time{}, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(csv.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "claude-sonnet-4-5") {
		t.Fatalf("CSV export:\n%s", csv.String())
	}

	if err := c.SetSettings(coreapi.Settings{Listen: "127.0.0.1:7999", RetentionDays: 30, StoreBodies: true, Language: "zh-CN"}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Settings()
	if err != nil || s.Listen != "127.0.0.1:7999" || s.RetentionDays != 30 || !s.StoreBodies || s.Language != "zh-CN" {
		t.Fatalf("settings after a change: %+v %v", s, err)
	}
	if srv.Language() != "zh-CN" {
		t.Fatalf("core's language %q", srv.Language())
	}

	rows, err := c.Prices()
	if err != nil || len(rows) == 0 {
		t.Fatalf("prices: %v", err)
	}
	row := rows[0]
	row.Input = 123.5
	if err := c.SetPrice(row); err != nil {
		t.Fatal(err)
	}
	rows, _ = c.Prices()
	if rows[0].Input != 123.5 || !rows[0].Custom {
		t.Fatalf("price row after SetPrice: %+v", rows[0])
	}
	if err := c.ResetPrices(); err != nil {
		t.Fatal(err)
	}

	if err := c.SetAPIKey("sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"); err != nil || c.APIKeyMasked() == "" {
		t.Fatalf("set key: %v masked %q", err, c.APIKeyMasked())
	}
	if err := c.ClearAPIKey(); err != nil || c.APIKeyMasked() != "" {
		t.Fatalf("clear key: %v", err)
	}
	old := c.LocalToken()
	if tok, err := c.RegenerateLocalToken(); err != nil || tok == old || tok != srv.Keys().LocalToken() {
		t.Fatalf("regenerate: %v", err)
	}

	// What happened arrived on the event stream, in order.
	want := []events.Kind{events.StateChanged, events.StateChanged}
	var got []events.Kind
	sawRequest, sawLanguage := false, false
	timeout := time.After(10 * time.Second)
	for !(sawRequest && sawLanguage) {
		select {
		case e := <-stream:
			if len(got) < 2 && e.Kind == events.StateChanged {
				got = append(got, e.Kind)
			}
			sawRequest = sawRequest || (e.Kind == events.RequestFinished && e.Record != nil && strings.HasPrefix(e.Record.Model, "claude-sonnet-4-5"))
			sawLanguage = sawLanguage || (e.Kind == events.SettingsChanged && e.Detail == app.KeyLanguage)
		case <-timeout:
			t.Fatalf("events: state %v, request %v, language %v", got, sawRequest, sawLanguage)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("state events %v", got)
	}
}

func TestClientWithoutTheTokenIsRefused(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), "wrong")
	if err := c.Pause(); !adminclient.IsUnauthorized(err) {
		t.Fatalf("pause with a wrong token: %v", err)
	}
}

// A fake core that cuts the stream after two events: the client resumes
// with Last-Event-ID and gets the rest, in order, once each.
func TestClientResumesTheEventStream(t *testing.T) {
	var mu sync.Mutex
	var seen []string // Last-Event-ID of each connection
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_ferry/events" || r.Header.Get("X-Ferry-Admin-Token") != "tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		seen = append(seen, r.Header.Get("Last-Event-ID"))
		n := len(seen)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		switch n {
		case 1:
			fmt.Fprint(w, ": ferry events\n\nid: run-1\nevent: state.changed\ndata: {\"detail\":\"paused\"}\n\n")
			fmt.Fprint(w, "id: run-2\nevent: route.down\ndata: {\"route\":\"Office\",\"up\":false}\n\n: heartbeat\n\n")
			return // the connection drops
		default:
			fmt.Fprint(w, "id: run-3\nevent: state.changed\ndata: {\"detail\":\"running\"}\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer fake.Close()
	c := adminclient.New(fake.URL, "tok")
	ch, cancel := c.Subscribe(8)
	var got []string
	for len(got) < 3 {
		select {
		case e := <-ch:
			got = append(got, string(e.Kind)+":"+e.Detail+e.Route)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %v", got)
		}
	}
	cancel()
	if want := "[state.changed:paused route.down:Office state.changed:running]"; fmt.Sprint(got) != want {
		t.Fatalf("events %v, want %s", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || seen[0] != "" || seen[1] != "run-2" {
		t.Fatalf("Last-Event-ID of the connections: %q, want \"\" then run-2", seen)
	}
	if _, open := <-ch; open {
		t.Fatal("channel open after cancel")
	}
}

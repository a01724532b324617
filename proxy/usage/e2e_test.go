package usage_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/proxy/usage"
	"github.com/ferry-gateway/ferry/storage"
)

type memRecorder struct {
	mu   sync.Mutex
	recs []storage.Record
}

func (m *memRecorder) Record(r storage.Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
}

func (m *memRecorder) last(t *testing.T, n int) storage.Record {
	t.Helper()
	// The proxy records after the response ends; the client may see the
	// end first.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		if len(m.recs) >= n {
			r := m.recs[n-1]
			m.mu.Unlock()
			return r
		}
		m.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("record %d never came", n)
	return storage.Record{}
}

// TestThroughProxy runs the fake API's scenarios through the real proxy
// with the Meter plugged in, plain and gzipped, and checks every record
// against the usage the fake says it sent.
func TestThroughProxy(t *testing.T) {
	for _, gz := range []testsupport.GzipMode{testsupport.GzipNever, testsupport.GzipAlways} {
		fake := testsupport.NewFakeAPI(t, testsupport.WithGzip(gz))
		base, _ := url.Parse(fake.URL)
		rec := &memRecorder{}
		meters := usage.NewMeters(usage.MetersOptions{Headroom: &usage.HeadroomTracker{}})
		p, err := proxy.New(proxy.Options{
			APIBase:  base,
			Recorder: rec,
			Logger:   slog.New(slog.DiscardHandler),
			Observe: func(r *http.Request, body []byte, start time.Time) proxy.Observer {
				return meters.NewObserver(r, body, start)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(p)
		t.Cleanup(srv.Close)
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		n := 0
		for _, sc := range []struct {
			scenario, path string
			stream         bool
		}{
			{testsupport.ScenarioMessage, "/v1/messages", false},
			{testsupport.ScenarioStream, "/v1/messages", true},
			{testsupport.ScenarioToolUse, "/v1/messages", true},
			{testsupport.ScenarioThinking, "/v1/messages", true},
			{testsupport.ScenarioUTF8Split, "/v1/messages", true},
			{testsupport.ScenarioUnknownEvent, "/v1/messages", true},
			{testsupport.ScenarioStreamError, "/v1/messages", true},
			{testsupport.ScenarioCutAfterStart, "/v1/messages", true},
			{testsupport.ScenarioCutMidStream, "/v1/messages", true},
			{testsupport.ScenarioLarge, "/v1/messages", true},
			{testsupport.ScenarioOpenAI, "/v1/chat/completions", false},
			{testsupport.ScenarioOpenAIStream, "/v1/chat/completions", true},
			{testsupport.ScenarioCountTokens, "/v1/messages/count_tokens", false},
			{testsupport.ScenarioRateLimited, "/v1/messages", false},
		} {
			t.Run(sc.scenario+map[bool]string{false: "", true: "/gzip"}[gz == testsupport.GzipAlways], func(t *testing.T) {
				body := `{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{"role":"user","content":"hi"}]` +
					map[bool]string{false: "}", true: `,"stream":true}`}[sc.stream]
				req, _ := http.NewRequest(http.MethodPost, srv.URL+sc.path, strings.NewReader(body))
				req.Header.Set("x-api-key", "sk-ant-test")
				req.Header.Set("anthropic-version", "2023-06-01")
				req.Header.Set("content-type", "application/json")
				req.Header.Set("accept-encoding", "gzip")
				req.Header.Set("user-agent", "Anthropic/Go 1.84.0")
				req.Header.Set("x-fake-scenario", sc.scenario)
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				if gz == testsupport.GzipAlways && res.StatusCode == 200 && res.Header.Get("Content-Encoding") != "gzip" {
					t.Errorf("the fake did not gzip (Content-Encoding %q)", res.Header.Get("Content-Encoding"))
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				n++
				r := rec.last(t, n)
				if r.Client != usage.ClientSDKGo {
					t.Errorf("client %q", r.Client)
				}
				want, ok, _ := testsupport.ExpectedUsage(sc.scenario)
				switch sc.scenario {
				case testsupport.ScenarioCountTokens:
					if r.Tokens != (storage.Tokens{}) || r.CostUSD != 0 || !r.PriceKnown || r.UsageExtras[usage.ExtraCountedTokens] == "" {
						t.Errorf("count_tokens: %+v", r)
					}
					return
				case testsupport.ScenarioRateLimited:
					if r.ErrorType != "rate_limit_error" || r.CostUSD != 0 {
						t.Errorf("rate limited: %q %v", r.ErrorType, r.CostUSD)
					}
					return
				}
				if !ok {
					t.Fatalf("no expected usage for %s", sc.scenario)
				}
				got := r.Tokens
				if got.Input != int64(want.InputTokens) || got.Output != int64(want.OutputTokens) ||
					got.CacheWrite5m != int64(want.CacheCreation5m) || got.CacheWrite1h != int64(want.CacheCreation1h) ||
					got.CacheRead != int64(want.CacheReadInputTokens) || r.ServiceTier != want.ServiceTier {
					t.Errorf("tokens %+v tier %q, want %+v", got, r.ServiceTier, want)
				}
				if !r.PriceKnown || r.CostUSD <= 0 {
					t.Errorf("cost %v known %v row %q", r.CostUSD, r.PriceKnown, r.PriceRow)
				}
				if sc.stream && sc.scenario != testsupport.ScenarioCutAfterStart && r.FirstToken <= 0 {
					t.Errorf("no first token time")
				}
				if sc.scenario == testsupport.ScenarioStreamError && r.ErrorType != "overloaded_error" {
					t.Errorf("error frame: %q", r.ErrorType)
				}
			})
		}
	}
}

// TestAdminThroughProxy mounts the handlers on the real proxy's admin mux:
// reading needs nothing, changing prices needs the admin token.
func TestAdminThroughProxy(t *testing.T) {
	db, err := storage.Open(t.TempDir()+"/ferry.db", storage.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prices, err := usage.LoadPrices(db)
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Options{AdminToken: func() string { return "admin-secret" }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := usage.NewHandlers(usage.HandlersOptions{DB: db, Prices: prices})
	hs.Register(p.HandleAdmin)
	srv := httptest.NewServer(p)
	defer srv.Close()
	do := func(method, path, body, token string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set(proxy.HeaderAdminToken, token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for _, path := range []string{"/_ferry/stats?window=1h", "/_ferry/requests", "/_ferry/usage?by=day", "/_ferry/metrics", "/_ferry/prices", "/_ferry/series"} {
		if code := do(http.MethodGet, path, "", "admin-secret"); code != 200 {
			t.Errorf("GET %s: %d", path, code)
		}
		// Reads need a token too (issue 14).
		if code := do(http.MethodGet, path, "", ""); code != 401 {
			t.Errorf("GET %s without a token: %d", path, code)
		}
	}
	row := `{"model":"claude-opus-6","input":6,"output":30}`
	if code := do(http.MethodPut, "/_ferry/prices", row, ""); code != 401 {
		t.Errorf("PUT without the admin token: %d", code)
	}
	if code := do(http.MethodPut, "/_ferry/prices", row, "admin-secret"); code != 200 {
		t.Errorf("PUT with the admin token: %d", code)
	}
	if code := do(http.MethodDelete, "/_ferry/prices", "", "wrong"); code != 401 {
		t.Errorf("DELETE with a wrong token: %d", code)
	}
	if _, ok := prices.Lookup("claude-opus-6", time.Now()); !ok {
		t.Error("the PUT row is not in use")
	}
}
